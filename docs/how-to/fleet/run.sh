#!/bin/sh
# The container's program in every fleet Job: install tfthreads, run the tfthreads
# command given as arguments, then keep the pod, and so its /results folder, until the
# results file has been copied out (a pod that has exited cannot be copied from).
set -u
wheel=$(ls /fleet/tfthreads-*.whl) || exit 1
pip install --no-cache-dir --root-user-action=ignore --progress-bar off "$wheel[tensorflow-cpu]" || exit 1
tfthreads "$@"
status=$?
# The readiness probe looks for this file: 'kubectl wait --for=condition=Ready' returns.
touch /results/done
echo "tfthreads $1 exited with $status; waiting for /results/copied"
until [ -e /results/copied ]; do sleep 10; done
exit "$status"
