#!/usr/bin/env bash
# Every benchmark, one after another, each appending its tables to benchmarks/results/.
# Takes a few hours on a 2-core machine; numbers in README.md come from these files.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p results
python bench_engine.py --epochs 3 --out results/engine.md
python bench_reconstruction.py --out results/reconstruction.md
python bench_features.py --out results/features.md
python bench_denoising.py --out results/denoising.md
python bench_vae.py --binarize threshold --out results/vae.md
python bench_vae.py --skip-digits --binarize stochastic --out results/vae.md
python bench_outliers.py --out results/outliers_trimmed.md
python bench_imputation.py --out results/imputation.md
python outlier_auto_threshold.py --out results/outliers_trimmed.md
python bench_defaults.py --seeds 5 --out results/defaults.md
python bench_epochs.py --out results/epochs.md
python bench_inference.py --repeats 5 --out results/inference.md
python bench_dask_search.py --epochs 200 --more --out results/dask_search.md
python bench_data_parallel.py --out results/data_parallel.md
python bench_images.py --out results/images_cpu.md
# Larger than memory: writes ~30 GB next to the repository, then deletes it.
python bench_out_of_core.py write ../../mnist_big.f32 --gb 30
python bench_out_of_core.py run ../../mnist_big.f32 --out results/out_of_core.md
rm -f ../../mnist_big.f32
# On a GPU: ./gpu_checks.sh (the -m gpu tests and GPU inference), and for
# README's MNIST VAE curve and 50/150-epoch feature rows:
#   python bench_vae.py --skip-digits --device cuda --epochs 500 --every 25 --k 1000 --test-rows 5000 --threads 16 --save vae.pkl
#   python bench_features.py --only "SparseAE k=10, by value" "SparseAE k=25, by value" "SparseAE k=40, by value" --epochs 50 --device cuda --threads 16
