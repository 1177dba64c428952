#!/usr/bin/env bash
# Train an architecture one epoch at a time with `zoo train --resume`, recording the held-out metric after each
# epoch (the card's training curve), until it has not improved for PATIENCE epochs or BUDGET_S seconds are spent.
# The best epoch's Hub folder is kept in OUT/best/. The whole run holds /tmp/zoo-train.lock (the machine is shared);
# BUDGET_S counts from when the lock is taken. CONTINUE=1 goes on after an interrupted run (see below).
#
#   bash plugins/zoo-pixelcnn/scripts/train_until_plateau.sh pixelcnn runs/pixelcnn-mnist pixelcnn.mnist \
#        zoo/pixelcnn-mnist -- --config n_residual=15 --batch-size 32 --seed 1
set -euo pipefail
if [ -z "${ZOO_TRAIN_LOCKED:-}" ]; then
  ZOO_TRAIN_LOCKED=1 exec flock /tmp/zoo-train.lock bash "$0" "$@"
fi
ARCH=$1 OUT=$2 NAME=$3 REPO=$4
shift 5  # the four arguments and "--"
MAX_EPOCHS=${MAX_EPOCHS:-60} PATIENCE=${PATIENCE:-2} BUDGET_S=${BUDGET_S:-1080} METRIC=${METRIC:-nll-binarized}
mkdir -p "$OUT"
start=$(date +%s) best="" since=0 epoch=0 stop="the epoch cap ($MAX_EPOCHS)"
if [ -n "${CONTINUE:-}" ] && [ -s "$OUT/curve.tsv" ]; then
  # CONTINUE=1: go on after an interrupted run, from the epochs its curve.tsv records (best, patience and the
  # budget's clock carry over)
  read -r epoch best since elapsed < <(python -c "
rows = [r.split('\t') for r in open('$OUT/curve.tsv').read().splitlines()[1:]]
values = [float(r[1]) for r in rows]
b = values.index(min(values))
print(len(rows), values[b], len(rows) - 1 - b, rows[-1][2])")
  start=$((start - elapsed))
else
  echo -e "epoch\t$METRIC\tseconds" > "$OUT/curve.tsv"
fi
while [ "$epoch" -lt "$MAX_EPOCHS" ]; do
  epoch=$((epoch + 1))
  resume=(); [ "$epoch" -gt 1 ] && resume=(--resume)
  zoo train "$ARCH" --dataset mnist5k --dataset-option binarize=stochastic --out "$OUT" \
    --epochs "$epoch" --name "$NAME" --repo-id "$REPO" "${resume[@]}" "$@" > "$OUT/epoch-$epoch.log" 2>&1
  value=$(python -c "import json,sys; e=json.load(open('$OUT/zoo-entry.json')); \
print(next(m['value'] for m in e['entry']['metrics'] if m['name']=='$METRIC'))")
  now=$(( $(date +%s) - start ))
  echo -e "$epoch\t$value\t$now" | tee -a "$OUT/curve.tsv"
  if [ -z "$best" ] || python -c "import sys; sys.exit(0 if $value < $best else 1)"; then
    best=$value since=0; rm -rf "$OUT/best"; cp -r "$OUT/model" "$OUT/best"; cp "$OUT/zoo-entry.json" "$OUT/best/"
  else
    since=$((since + 1))
  fi
  if [ "$since" -ge "$PATIENCE" ]; then stop="no improvement for $PATIENCE epochs"; break; fi
  if [ "$now" -ge "$BUDGET_S" ]; then stop="the time budget (${BUDGET_S} s)"; break; fi
done
echo "stopped after epoch $epoch: $stop; best $METRIC $best" | tee "$OUT/stopped.txt"
