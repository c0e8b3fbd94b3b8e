import tensorflow as tf

from tfthreads.inventory import inventory, pool_counts

before = inventory()
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 3)
tf.config.threading.set_intra_op_parallelism_threads(2)
tf.constant(1.0)
pools = pool_counts(before)
print("intra-op threads:", pools["intra_op"])
