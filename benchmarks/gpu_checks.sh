#!/usr/bin/env bash
# Every GPU check in one run, for a session lent a CUDA machine: the -m gpu
# tests (device="cuda" end to end, GPU inference in the input dtype, VAE
# sampling, pickles loading without a GPU, convolutional networks; NCCL
# data-parallel training where two GPUs are present) and the GPU rows of the
# inference benchmark. A few minutes on one H200.
#
#     bash benchmarks/gpu_checks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pytest -m gpu tests -q -rs
cd benchmarks && PYTHONPATH=../src python bench_inference.py --device cuda --repeats 5
