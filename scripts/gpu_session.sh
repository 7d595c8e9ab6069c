#!/usr/bin/env bash
# One time-boxed training session on a CUDA machine: the bundled pair's recipe at the seed's scale
# (batch 64, every grid patch), from nothing to an evaluated pair, in about 10 minutes on one H200.
#
#   bash scripts/gpu_session.sh            # results in $OUT (default runs/gpu)
#
# Steps: phantoms (+ real NDCT from SOURCES) -> variable-dose dataset (simulated on the GPU) -> MSE -> WGAN-GP
# from its best.pt -> the weight average of its epochs -> test-split evaluation, all within TOTAL_MIN minutes: what the data leaves, less
# EVAL_RESERVE_S for the evaluation, goes 70/30 to MSE and WGAN-GP (or MSE_MIN / WGAN_MIN). Each fit is
# stopped by SIGINT at its time limit, which the trainer handles like Ctrl-C (finishes the step,
# saves train_state.pt; `--resume` continues it). Everything else is the defaults (the seed's
# Config.yaml plus ours), as in history/HISTORY.md, except where commented.
#
# Environment (all optional): OUT, WORK (scratch, default /tmp/ldct-gpu), PY (python with torch),
# SOURCES (real normal-dose CT to train on besides the phantoms, e.g. the train/ folder of
# `ldct-train sources`, carried to the machine: it has no internet; then the dataset draws a random
# scanner per patient, as the bundled pair's did), TOTAL_MIN (default 9, for a 10-minute command limit), EVAL_RESERVE_S (90), MSE_MIN / WGAN_MIN (fixed
# time boxes instead), AMP (true: bf16 autocast, checked by a one-epoch run first and dropped if it
# fails), VOLUMES (24), SLICES (3), SIZE (512), and MSE_SET / WGAN_SET:
# extra "key=value ..." overrides (the CPU dry run in tests uses them to shrink everything).
# Needs pydicom and platformdirs besides torch/numpy/scipy/matplotlib/pyyaml (checked first); on a
# machine without internet carry their wheels and put them on PYTHONPATH first. WORK is scratch: a
# previous session's phantoms, dataset and runs there are removed first, so that a rerun on a warm
# machine neither trips over them (a fit refuses a folder holding a run) nor bundles them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PY=${PY:-python3}
OUT=${OUT:-runs/gpu}
WORK=${WORK:-/tmp/ldct-gpu}
TOTAL_MIN=${TOTAL_MIN:-9}
EVAL_RESERVE_S=${EVAL_RESERVE_S:-90}
AMP=${AMP:-true}
VOLUMES=${VOLUMES:-24}
SLICES=${SLICES:-3}
SIZE=${SIZE:-512}
$PY -c 'import torch, numpy, scipy, yaml, matplotlib, pydicom, platformdirs' || {
    echo "gpu_session.sh: $PY lacks a package the trainer needs (above); see the header" >&2; exit 1; }
rm -rf "$WORK"/{phantoms,ds,amp-check,mse,wgan,eval}
mkdir -p "$OUT" "$WORK"
log="$OUT/session.log"
: >"$log"
say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$log"; }
sets() { for kv in $1; do printf -- '--set %s ' "$kv"; done; }

start=$SECONDS
say "$($PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")')"
t0=$SECONDS
$PY -m trainer phantoms --out "$WORK/phantoms" --volumes "$VOLUMES" --slices "$SLICES" --size "$SIZE" --seed 2026 >>"$log" 2>&1
ndct=("$WORK/phantoms")
scanner=()
if [ -n "${SOURCES:-}" ]; then
    ndct=("$SOURCES" "$WORK/phantoms")
    scanner=(--randomize-scanner)
fi
dataset() {
    $PY -m trainer dataset --ndct "${ndct[@]}" --out "$WORK/ds" --seed 2026 --val-fraction 0.125 \
        --test-fraction 0.125 --reference-scan 100:1152 ${scanner[@]+"${scanner[@]}"} "$@" >>"$log" 2>&1
}
if ! dataset; then  # the simulation's CUDA path has not run before this script's first GPU session
    say "dataset on the default device failed (log above): again on the CPU"
    rm -rf "$WORK/ds"
    dataset --device cpu
fi
say "data ready in $((SECONDS - t0)) s"
# The bundled pair's recipe (resources/checkpoints/MODEL_CARD.md): both networks on the 720-view
# conditions only (sparse-view inputs teach a skin brightening that full-view scans then get), the MSE
# network on the phantom volumes only (a real NDCT shares its grain with every LDCT made from it).
manifest() { $PY -c "import json, sys; m = json.load(open('$WORK/ds/manifest.json')); $1"; }
V720=$(manifest 'print(",".join(c for c in m["conditions"] if c.endswith("_v720")))')
PHANTOMS=$(manifest 'print(",".join(v["id"] for v in m["volumes"] if v["split"] == "train" and v.get("truth")))')
[ -n "$V720" ] && [ -n "$PHANTOMS" ] || { say "the dataset has no 720-view condition or no phantom training volume"; exit 1; }
say "conditions $V720; MSE training volumes $PHANTOMS"

if [ "$AMP" = true ] && ! $PY -m trainer fit --mode mse --data "$WORK/ds" --out "$WORK/amp-check" --set run.amp=true \
        --set sampling.patches_per_epoch=256 --set sampling.val_patches=64 --set training.num_epochs=1 \
        $(sets "${MSE_SET:-}") >>"$log" 2>&1; then
    say "bf16 autocast failed (log above): training in fp32"
    AMP=false
fi
left=$((TOTAL_MIN * 60 - (SECONDS - start) - EVAL_RESERVE_S))
mse_s=$(awk -v m="${MSE_MIN:-}" -v l="$left" 'BEGIN { print (m != "" ? int(m * 60) : int(l * 0.7)) }')
wgan_s=$(awk -v m="${WGAN_MIN:-}" -v l="$left" 'BEGIN { print (m != "" ? int(m * 60) : int(l * 0.3)) }')
[ "$mse_s" -ge 10 ] && [ "$wgan_s" -ge 10 ] || { say "no time left to train (${left} s)"; exit 1; }
say "time boxes: mse ${mse_s} s, wgan-gp ${wgan_s} s, amp $AMP"

# MSE: the seed's batch 64 and lr 1e-4, every grid patch, validated every 32,768 patches so that
# the LR schedule, early stopping and best.pt act within the time box; bf16 autocast on CUDA.
t0=$SECONDS
timeout -s INT "${mse_s}s" $PY -m trainer fit --mode mse --data "$WORK/ds" --out "$WORK/mse" \
    --set sampling.conditions=$V720 --set sampling.train_volumes=$PHANTOMS \
    --set sampling.patches_per_epoch=32768 --set sampling.num_workers=8 \
    --set run.amp=$AMP --set training.num_epochs=1000 $(sets "${MSE_SET:-}") >>"$log" 2>&1 || true
say "mse: $((SECONDS - t0)) s; $(grep -c '^epoch,' "$WORK/mse/log.csv" || true) epochs logged"
test -f "$WORK/mse/best.pt" || { say "mse produced no best.pt"; exit 1; }

# WGAN-GP from it with the seed's critic (high-pass start, fp32), 5 critic steps per generator step, the
# seed's weights 0.05 / 0.95, 120 critic-only iterations first, on every volume at 720 views. Its grain
# swings from epoch to epoch; wgan-best.pt is the trainer's rule, and wgan-swa.pt the weight average of
# every epoch after the first (`ldct-train average`), as the bundled WGAN-GP network is made (MODEL_CARD.md).
t0=$SECONDS
timeout -s INT "${wgan_s}s" $PY -m trainer fit --mode wgan-gp --init "$WORK/mse/best.pt" --data "$WORK/ds" \
    --out "$WORK/wgan" --set sampling.conditions=$V720 --set sampling.patches_per_epoch=8192 \
    --set sampling.num_workers=8 --set run.amp=$AMP --set training.num_epochs=1000 \
    --set weights.disc_weight=0.05 --set weights.mse_weight=0.95 --set loss.critic_warmup_iterations=120 \
    --set selection.wgan_warmup_epochs=3 \
    $(sets "${WGAN_SET:-}") >>"$log" 2>&1 || true
say "wgan-gp: $((SECONDS - t0)) s; $(grep -c '^epoch,' "$WORK/wgan/log.csv" || true) epochs logged"
test -f "$WORK/wgan/best.pt" || { say "wgan-gp produced no best.pt"; exit 1; }
swa=()
mapfile -t averaged < <(ls "$WORK"/wgan/epoch_*.pt | sort | tail -n +2)
if [ "${#averaged[@]}" -ge 2 ]; then
    $PY -m trainer average "${averaged[@]}" --out "$WORK/wgan/swa.pt" --note "every epoch after the first" >>"$log" 2>&1
    swa=(--checkpoint "$WORK/wgan/swa.pt")
    say "wgan-gp weight average of ${#averaged[@]} epochs: $WORK/wgan/swa.pt"
else
    say "wgan-gp: ${#averaged[@]} epoch(s) after the first, too few to average"
fi

t0=$SECONDS
$PY -m trainer evaluate --checkpoint "$WORK/mse/best.pt" --checkpoint "$WORK/wgan/best.pt" ${swa[@]+"${swa[@]}"} \
    --data "$WORK/ds" --split test --out "$WORK/eval" >>"$log" 2>&1
say "evaluate: $((SECONDS - t0)) s"
cat "$WORK/eval/table.md" >>"$log"

cp "$WORK/mse/best.pt" "$OUT/mse-best.pt"
cp "$WORK/wgan/best.pt" "$OUT/wgan-best.pt"
[ -f "$WORK/wgan/swa.pt" ] && cp "$WORK/wgan/swa.pt" "$OUT/wgan-swa.pt"
tar -czf "$OUT/runs.tar.gz" -C "$WORK" --exclude='*.pt' mse wgan eval
say "total $((SECONDS - start)) s; done: $OUT/mse-best.pt, $OUT/wgan-best.pt$([ -f "$OUT/wgan-swa.pt" ] && echo ", $OUT/wgan-swa.pt"), $OUT/runs.tar.gz, $OUT/session.log"
