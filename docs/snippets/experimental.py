import tensorflow as tf

v1 = tf.compat.v1
v1.disable_eager_execution()
total = tf.reduce_sum(tf.ones([64, 64]))


def run(configure=None, options=None):
    config = v1.ConfigProto()
    if configure:
        configure(config.experimental)
    with v1.Session(config=config) as session:
        return session.run(total, options=options)


def executor(name):
    return lambda experimental: setattr(experimental, "executor_type", name)


print("SINGLE_THREADED_EXECUTOR:", run(executor("SINGLE_THREADED_EXECUTOR")))
try:
    run(executor("NO_SUCH_EXECUTOR"))
except tf.errors.NotFoundError as error:
    print("NotFoundError:", error.message.splitlines()[-1].split(" Registered")[0])
try:
    run(lambda experimental: setattr(experimental, "use_tfrt", True))
except tf.errors.NotFoundError as error:
    print("NotFoundError:", str(error).split(":")[0])
print("disable_thread_spinning:", run(lambda e: setattr(e, "disable_thread_spinning", True)))
print("use_numa_affinity:", run(lambda e: setattr(e, "use_numa_affinity", True)))
options = v1.RunOptions()
options.experimental.use_run_handler_pool = True
options.experimental.run_handler_pool_options.priority = 1
print("use_run_handler_pool:", run(options=options))
