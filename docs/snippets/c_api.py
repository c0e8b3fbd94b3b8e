import tensorflow as tf

config = tf.compat.v1.ConfigProto.FromString(bytes([0x10, 0x02, 0x28, 0x01]))
print(config, end="")
