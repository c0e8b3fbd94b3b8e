import tensorflow as tf

from tfthreads.settings import ThreadSettings

config = tf.compat.v1.ConfigProto(
    intra_op_parallelism_threads=2, inter_op_parallelism_threads=2, allow_soft_placement=True
)
settings = ThreadSettings.from_config_proto(config)
settings.apply()  # tf.config.threading, before the runtime starts
tf.constant(1.0)
print(settings.describe())
print(
    tf.config.threading.get_intra_op_parallelism_threads(),
    tf.config.threading.get_inter_op_parallelism_threads(),
)
