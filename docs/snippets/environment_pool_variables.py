import os

import tensorflow as tf

from tfthreads.inventory import inventory, pool_counts

os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
os.environ["TF_NUM_INTEROP_THREADS"] = "1"
before = inventory()
tf.constant(1.0)
pools = pool_counts(before)
print("intra-op threads:", pools["intra_op"])
print("inter-op threads:", pools["inter_op"])
