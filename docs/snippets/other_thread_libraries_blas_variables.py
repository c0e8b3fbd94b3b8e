from tfthreads.inventory import inventory

at_start = inventory().count
import numpy  # noqa: F401  (loading it starts OpenBLAS)
from threadpoolctl import threadpool_info

print(
    threadpool_info()[0]["num_threads"],
    "thread(s),",
    inventory().count - at_start,
    "started at import",
)
