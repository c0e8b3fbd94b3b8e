import tensorflow as tf

from tfthreads.inventory import inventory, pool_counts

before = inventory()
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 4)
tf.config.threading.set_intra_op_parallelism_threads(2)
print("logical CPUs:", len(tf.config.list_logical_devices("CPU")))
pools = pool_counts(before)
print("intra-op threads:", pools["intra_op"])
tf.config.set_soft_device_placement(False)
try:
    with tf.device("/device:GPU:7"):
        tf.constant(1.0) + 1.0
except tf.errors.InvalidArgumentError as error:
    print(str(error).split(".")[0])
tf.config.set_soft_device_placement(True)
with tf.device("/device:GPU:7"):
    print("soft placement ran it on", (tf.constant(1.0) + 1.0).device.split("/")[-1])
tf.debugging.set_log_device_placement(False)
try:
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
except RuntimeError as error:
    print(error)
