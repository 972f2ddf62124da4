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
# On a GPU (README's MNIST VAE curve and 50/150-epoch feature rows):
#   python bench_vae.py --skip-digits --device cuda --epochs 500 --every 25 --k 1000 --test-rows 5000 --threads 16 --save vae.pkl
#   python bench_features.py --only "SparseAE k=10, by value" "SparseAE k=25, by value" "SparseAE k=40, by value" --epochs 50 --device cuda --threads 16
