import tensorflow as tf

dataset = tf.data.Dataset.range(4).map(lambda x: x * 2)
options = tf.data.Options()
options.threading.private_threadpool_size = 2
options.threading.max_intra_op_parallelism = 1
options.autotune.cpu_budget = 1
print("with options:", [int(x) for x in dataset.with_options(options).as_numpy_iterator()])
default = tf.data.Options()
print(
    "defaults:",
    default.threading.private_threadpool_size,
    default.threading.max_intra_op_parallelism,
    default.autotune.cpu_budget,
)
negative = tf.data.Options()
negative.threading.private_threadpool_size = -1
print("negative size:", [int(x) for x in dataset.with_options(negative).as_numpy_iterator()])
try:
    tf.data.Options().threading.private_threadpool_size = 2.5
except TypeError as error:
    print("TypeError:", error)
