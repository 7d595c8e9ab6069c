# The bundled checkpoints and the runs before them, sessions 2-8 (2026-12-01/02): run from the repository root, CPU only
# (2 cores, torch 2.13.0+cpu). Ctrl-C = the run was interrupted there (state saved) to fit the session.
ldct-train phantoms --out data/phantoms --volumes 24 --slices 3 --seed 2026
ldct-train dataset --ndct data/phantoms --out data/phantom-ds --seed 2026 --val-fraction 0.125 --test-fraction 0.125 --reference-scan 100:1152
# MSE stage 1: the seed's plain MSE, identity start. Session 2 ran these two MSE stages with the trainer's
# then defaults, model.init=identity and Adam's coupled L2; the --set flags below reproduce them today.
ldct-train fit --mode mse --data data/phantom-ds --out runs/mse --set model.init=identity --set loss.l2_mode=coupled --set dataset.batch_size=16 --set sampling.patches_per_epoch=960 --set sampling.val_patches=256 --set training.num_epochs=40 --set training.learning_rate=2e-4
#   stopped during epoch 8 (blurring the 720-view conditions); runs/mse/best.pt = epoch 6
# MSE stage 2: condition-balanced MSE, from stage 1  -> redcnn-mse.pt
ldct-train fit --mode mse --init runs/mse/best.pt --data data/phantom-ds --out runs/mse-bal --set loss.l2_mode=coupled --set dataset.batch_size=16 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=40 --set training.learning_rate=2e-4 --set loss.condition_balance=true
#   Ctrl-C during epoch 9; runs/mse-bal/best.pt = epoch 8 (lowest balanced validation loss)
# (session 2's WGAN-GP, disc_weight 0.05, is superseded: no epoch beat the input at every condition;
#  ldct-train fit --mode wgan-gp --init runs/mse-bal/best.pt --data data/phantom-ds --out runs/wgan --set dataset.batch_size=16 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=30 --set loss.condition_balance=true)
#
# Session 3 (2026-12-01), same machine class, same data/phantom-ds; the trainer now defaults to
# loss.l2_mode=decoupled (AdamW) and model.init=default.
# WGAN-GP from the bundled MSE checkpoint, adversarial weight 0.005 (see history/HISTORY.md)  -> redcnn-wgangp.pt
ldct-train fit --mode wgan-gp --init resources/checkpoints/redcnn-mse.pt --data data/phantom-ds --out runs/wgan-v3 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=30 --set loss.condition_balance=true --set weights.disc_weight=0.005 --set weights.mse_weight=0.995
#   Ctrl-C during epoch 8; runs/wgan-v3/best.pt = epoch 5 (every epoch beat the input in every validation
#   condition; epoch 5 had the lowest validation texture distance)
# Stopped experiments (history/HISTORY.md, "What the MSE network actually learnt"):
#   ldct-train fit --mode mse --init resources/checkpoints/redcnn-mse.pt --data data/phantom-ds --out runs/mse3 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=40 --set training.learning_rate=5e-4 --set loss.condition_balance=true
#     (old trainer, coupled L2; 4 epochs, no epoch below the starting network's balanced validation loss)
#   ldct-train fit --mode mse --data data/phantom-ds --out runs/mse-v3 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=60 --set training.learning_rate=3e-4 --set loss.condition_balance=true
#     (from scratch, default init, AdamW; 2 epochs: 63.5, 64.2 HU validation RMSE; repeated into runs/mse-v4:
#      5 epochs, 63.5 64.2 52.3 49.8 48.9 HU, all ten layers alive, stopped for time)
ldct-train evaluate --checkpoint runs/mse-bal/best.pt --checkpoint runs/wgan-v3/best.pt --data data/phantom-ds --split test --out runs/eval3
#
# Session 4 (2026-12-01, same machine class): evaluate gained the signed grain column (power vs NDCT);
# the same two checkpoints re-evaluated (every other figure identical to runs/eval3 to the last digit)
ldct-train evaluate --checkpoint runs/mse-bal/best.pt --checkpoint runs/wgan-v3/best.pt --data data/phantom-ds --split test --out runs/eval4
cp runs/eval4/table.md resources/checkpoints/evaluation.md
cp runs/eval4/table.csv resources/checkpoints/evaluation.csv
cp runs/eval4/conditions.png resources/checkpoints/evaluation_conditions.png
# copy into resources/checkpoints with the test evaluation embedded in the metadata (weights unchanged):
python scripts/bundle.py
# the measurements behind history/HISTORY.md's "Why the texture target is not met":
python scripts/diagnose.py smoothing --data data/phantom-ds
python scripts/diagnose.py critic --state runs/wgan-v3/train_state.pt --data data/phantom-ds
python scripts/diagnose.py dead-units --data data/phantom-ds
# runs/mse-v4 (PyTorch's init) continued to epoch 7 (48.7, 49.0 HU), then stopped: its successor is the
# centered start (model.init=centered, now the default), the same run otherwise:
ldct-train fit --mode mse --data data/phantom-ds --out runs/mse-c1 --set model.init=centered --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=2 --set training.learning_rate=3e-4 --set loss.condition_balance=true
ldct-train fit --mode mse --data data/phantom-ds --out runs/mse-c1 --resume --set training.num_epochs=60
#   in progress at the end of session 4; session 5 (2026-12-01, same machine class) resumed it with the same line:
#   Ctrl-C during epoch 19; runs/mse-c1/best.pt = epoch 18 (lowest balanced validation loss)  -> redcnn-mse.pt
#
# Session 5: the trainer's WGAN-GP critic now starts high-pass (model.critic_init=highpass, the new default);
# WGAN-GP from the centered MSE network, otherwise session 3's flags  -> redcnn-wgangp.pt
ldct-train fit --mode wgan-gp --init runs/mse-c1/best.pt --data data/phantom-ds --out runs/wgan-c1 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=30 --set loss.condition_balance=true --set weights.disc_weight=0.005 --set weights.mse_weight=0.995
#   Ctrl-C during epoch 10; runs/wgan-c1/best.pt = epoch 8 (trainer's rule: every epoch qualified, closest texture)
# the selected checkpoints, kept apart (runs/mse-c1 was resumed again after bundling, so its best.pt may move on)
cp runs/mse-c1/best.pt runs/mse-c1-epoch18.pt
cp runs/wgan-c1/best.pt runs/wgan-c1-epoch8.pt
ldct-train evaluate --checkpoint runs/mse-c1/best.pt --checkpoint runs/wgan-c1/best.pt --data data/phantom-ds --split test --out runs/eval5
cp runs/eval5/table.md resources/checkpoints/evaluation.md
cp runs/eval5/table.csv resources/checkpoints/evaluation.csv
cp runs/eval5/conditions.png resources/checkpoints/evaluation_conditions.png
python scripts/bundle.py   # copies the two runs/*-epochN.pt here with the test evaluation embedded
python scripts/diagnose.py critic --state runs/wgan-c1/train_state.pt --data data/phantom-ds
python scripts/diagnose.py critic-start --checkpoint runs/mse-c1-epoch18.pt --data data/phantom-ds
# after bundling, runs/mse-c1 was resumed once more in the background (the same --resume line) for the next session
#
# Session 6 (2026-12-02): the trainer's validation texture measure fixed (per condition, strictly flat tiles);
# the WGAN-GP run's per-epoch checkpoints re-measured with it (history/HISTORY.md, Training curves):
python scripts/diagnose.py texture --data data/phantom-ds --checkpoint runs/mse-c1-epoch18.pt --checkpoint runs/wgan-c1/epoch_001.pt --checkpoint runs/wgan-c1/epoch_002.pt --checkpoint runs/wgan-c1/epoch_003.pt --checkpoint runs/wgan-c1/epoch_004.pt --checkpoint runs/wgan-c1/epoch_005.pt --checkpoint runs/wgan-c1/epoch_006.pt --checkpoint runs/wgan-c1/epoch_007.pt --checkpoint runs/wgan-c1/epoch_008.pt --checkpoint runs/wgan-c1/epoch_009.pt
# and runs/mse-c1 resumed again (same --resume line) for the rest of the session
ldct-train fit --mode mse --data data/phantom-ds --out runs/mse-c1 --resume --set training.num_epochs=60
#
# Session 7 (2026-12-02): would a critic trained longer first see the grain? (history/HISTORY.md; stopped after step 1000)
cp runs/mse-c1/best.pt /tmp/mse-e36.pt   # epoch 36 of the resumed MSE run
python scripts/diagnose.py critic-warmup --checkpoint /tmp/mse-e36.pt --data data/phantom-ds --steps 3000
ldct-train fit --mode mse --data data/phantom-ds --out runs/mse-c1 --resume --set training.num_epochs=100
#   Ctrl-C in epoch 54; best = epoch 53 (validation RMSE 20.1 HU); not bundled. Its grain by epoch:
python scripts/diagnose.py grain-history --state runs/mse-c1/train_state.pt --every 5
#
# Session 8 (2026-12-02): a new machine; runs/ and data/ were gone, so the data was rebuilt with the
# two commands at the top (3 min 39 s, same seeds and contents; only the DICOM UIDs are new), and
# the MSE network continued from the bundled one. The trainer's run.amp now works on the CPU
# (bfloat16 autocast; this CPU has AVX512-BF16; bench_train: 1.3-2.0x fp32's step rate):
# 12-14 patches/s at batch 8 on this session's host (sessions 4-7, fp32: 3-5.5 on theirs).
ldct-train fit --mode mse --init resources/checkpoints/redcnn-mse.pt --data data/phantom-ds --out runs/mse-c2 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=100 --set training.learning_rate=3e-4 --set loss.condition_balance=true --set run.amp=true
#   early stop after epoch 17; best = epoch 11 (balanced 4.62e-5, RMSE 23.5 HU). From epoch 14 on the
#   output kept exactly the input's grain (fresh Adam at 3e-4; dead units rose, conv5 42 % -> 85 %)
cp runs/mse-c2/best.pt runs/mse-c2-epoch11.pt
ldct-train fit --mode mse --init runs/mse-c2-epoch11.pt --data data/phantom-ds --out runs/mse-c3 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=100 --set training.learning_rate=1e-4 --set loss.condition_balance=true --set run.amp=true
#   stopped by Ctrl-C in epoch 29; best = epoch 26 (balanced 3.54e-5, validation RMSE 19.3 HU)  -> redcnn-mse.pt
cp runs/mse-c3/best.pt runs/mse-c3-best.pt
# WGAN-GP from it, session 3/5's flags plus a larger validation subset and bf16  -> redcnn-wgangp.pt
ldct-train fit --mode wgan-gp --init runs/mse-c3-best.pt --data data/phantom-ds --out runs/wgan-c3 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=1024 --set training.num_epochs=30 --set loss.condition_balance=true --set weights.disc_weight=0.005 --set weights.mse_weight=0.995 --set run.amp=true
#   Ctrl-C in epoch 11; runs/wgan-c3/best.pt = epoch 8 (trainer's rule: every epoch qualified, closest texture 3.97 dB)
cp runs/wgan-c3/best.pt runs/wgan-c3-best.pt
ldct-train evaluate --checkpoint runs/mse-c3-best.pt --checkpoint runs/wgan-c3-best.pt --data data/phantom-ds --split test --out runs/eval8
python scripts/bundle.py --tables   # defaults: the two runs/*-best.pt above and runs/eval8
python scripts/diagnose.py grain-history --state runs/mse-c2/train_state.pt --every 1
python scripts/diagnose.py grain-history --state runs/mse-c3/train_state.pt --every 1
python scripts/diagnose.py grain-history --state runs/wgan-c3/train_state.pt --every 1
# a probe, not bundled (history/HISTORY.md, What the next training should change, 6): adversarial weight 0.02
ldct-train fit --mode wgan-gp --init runs/mse-c3-best.pt --data data/phantom-ds --out runs/wgan-d02 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=1024 --set training.num_epochs=30 --set loss.condition_balance=true --set weights.disc_weight=0.02 --set weights.mse_weight=0.98 --set run.amp=true
#   Ctrl-C in epoch 6
python scripts/diagnose.py grain-history --state runs/wgan-d02/train_state.pt --every 1
#
# Session 9 (2026-12-02): a new machine again; data rebuilt with the two commands at the top (4 min
# 12 s). The bundled pair was not replaced. Diagnoses and runs behind history/HISTORY.md's "Session 9"
# section (runs/mse-c3-best.pt = a copy of the bundled redcnn-mse.pt); this host ran the bf16
# WGAN-GP step at 19-25 patches/s, with the fp32 critic 12.7.
cp resources/checkpoints/redcnn-mse.pt runs/mse-c3-best.pt
python scripts/diagnose.py critic-warmup --checkpoint resources/checkpoints/redcnn-mse.pt --data data/phantom-ds --steps 250
python scripts/diagnose.py critic-warmup --checkpoint resources/checkpoints/redcnn-mse.pt --data data/phantom-ds --steps 1000 --conditions d25_v720,d50_v360,d50_v720,d100_v360,d100_v720
# c4, c5: the critic (then still under bf16 autocast) limited to the five smooth conditions, adversarial weight 0.02 / 0.005
ldct-train fit --mode wgan-gp --init runs/mse-c3-best.pt --data data/phantom-ds --out runs/wgan-c4 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=1024 --set training.num_epochs=40 --set loss.condition_balance=true --set weights.disc_weight=0.02 --set weights.mse_weight=0.98 --set loss.adversarial_conditions=d25_v720,d50_v360,d50_v720,d100_v360,d100_v720 --set run.amp=true
#   Ctrl-C in epoch 14
python scripts/diagnose.py critic --state runs/wgan-c4/train_state.pt --data data/phantom-ds   # at iteration 1440
ldct-train fit --mode wgan-gp --init runs/mse-c3-best.pt --data data/phantom-ds --out runs/wgan-c5 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=1024 --set training.num_epochs=60 --set loss.condition_balance=true --set weights.disc_weight=0.005 --set weights.mse_weight=0.995 --set loss.adversarial_conditions=d25_v720,d50_v360,d50_v720,d100_v360,d100_v720 --set run.amp=true
#   Ctrl-C in epoch 12
# c6: the critic in fp32 from here on (trainer change), adversarial weight 0.01
ldct-train fit --mode wgan-gp --init runs/mse-c3-best.pt --data data/phantom-ds --out runs/wgan-c6 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=1024 --set training.num_epochs=60 --set loss.condition_balance=true --set weights.disc_weight=0.01 --set weights.mse_weight=0.99 --set loss.adversarial_conditions=d25_v720,d50_v360,d50_v720,d100_v360,d100_v720 --set run.amp=true
#   Ctrl-C in epoch 7; its state at iteration 720 (a copy taken then) probed:
python scripts/diagnose.py critic-direction --state runs/wgan-c6/train_state.pt --data data/phantom-ds --conditions d25_v720,d50_v360,d50_v720,d100_v360,d100_v720
# c7: plus 360 critic-only iterations first, adversarial weight 0.005
ldct-train fit --mode wgan-gp --init runs/mse-c3-best.pt --data data/phantom-ds --out runs/wgan-c7 --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=1024 --set training.num_epochs=60 --set loss.condition_balance=true --set weights.disc_weight=0.005 --set weights.mse_weight=0.995 --set loss.adversarial_conditions=d25_v720,d50_v360,d50_v720,d100_v360,d100_v720 --set loss.critic_warmup_iterations=360 --set selection.wgan_warmup_epochs=4 --set run.amp=true
python scripts/diagnose.py critic --state runs/wgan-c7/train_state.pt --data data/phantom-ds   # at iteration 960 (a copy taken then), and critic-direction on it
for r in c4 c5 c6 c7; do python scripts/diagnose.py grain-history --state runs/wgan-$r/train_state.pt --every 1; done
#   Ctrl-C in epoch 14; the critic at the end of its warm-up, from the same command stopped after epoch 3:
ldct-train fit --mode wgan-gp --init runs/mse-c3-best.pt --data data/phantom-ds --out runs/wgan-c7-warm --set dataset.batch_size=8 --set sampling.patches_per_epoch=960 --set sampling.val_patches=1024 --set training.num_epochs=3 --set loss.condition_balance=true --set weights.disc_weight=0.005 --set weights.mse_weight=0.995 --set loss.adversarial_conditions=d25_v720,d50_v360,d50_v720,d100_v360,d100_v720 --set loss.critic_warmup_iterations=360 --set selection.wgan_warmup_epochs=4 --set run.amp=true
python scripts/diagnose.py critic --state runs/wgan-c7-warm/train_state.pt --data data/phantom-ds
# c8: the seed's batch 64, 120 warm-up iterations (critic and critic-direction probed after epoch 2 from a copy, and at the stop)
ldct-train fit --mode wgan-gp --init runs/mse-c3-best.pt --data data/phantom-ds --out runs/wgan-c8 --set dataset.batch_size=64 --set sampling.patches_per_epoch=3840 --set sampling.val_patches=1024 --set training.num_epochs=60 --set loss.condition_balance=true --set weights.disc_weight=0.005 --set weights.mse_weight=0.995 --set loss.adversarial_conditions=d25_v720,d50_v360,d50_v720,d100_v360,d100_v720 --set loss.critic_warmup_iterations=120 --set selection.wgan_warmup_epochs=3 --set run.amp=true
#   Ctrl-C in epoch 6 (iteration 306); probed (below), then
ldct-train fit --mode wgan-gp --data data/phantom-ds --out runs/wgan-c8 --resume
#   Ctrl-C in epoch 8, after epoch 7 (iteration 420)
python scripts/diagnose.py critic --state runs/wgan-c8/train_state.pt --data data/phantom-ds
python scripts/diagnose.py critic-direction --state runs/wgan-c8/train_state.pt --data data/phantom-ds --conditions d25_v720,d50_v360,d50_v720,d100_v360,d100_v720
python scripts/diagnose.py grain-history --state runs/wgan-c8/train_state.pt --every 1
#
# Session 10 (2026-12-02, the same machine as session 9; data and runs/ still there). The seed's
# adversarial weight with the grain-seeing critic (history/HISTORY.md, "Session 10").
# c9: as c8, but the seed's weights 0.05 / 0.95
ldct-train fit --mode wgan-gp --init runs/mse-c3-best.pt --data data/phantom-ds --out runs/wgan-c9 --set dataset.batch_size=64 --set sampling.patches_per_epoch=3840 --set sampling.val_patches=1024 --set training.num_epochs=60 --set loss.condition_balance=true --set weights.disc_weight=0.05 --set weights.mse_weight=0.95 --set loss.adversarial_conditions=d25_v720,d50_v360,d50_v720,d100_v360,d100_v720 --set loss.critic_warmup_iterations=120 --set selection.wgan_warmup_epochs=3 --set run.amp=true
#   probed at iteration 420 (a copy of train_state.pt taken then), Ctrl-C in epoch 10 (iteration 548), probed again
python scripts/diagnose.py critic-direction --state runs/wgan-c9/train_state.pt --data data/phantom-ds --conditions d25_v720,d50_v360,d50_v720,d100_v360,d100_v720
python scripts/diagnose.py critic --state runs/wgan-c9/train_state.pt --data data/phantom-ds
# c10: as c9, but 10 critic iterations per generator step
ldct-train fit --mode wgan-gp --init runs/mse-c3-best.pt --data data/phantom-ds --out runs/wgan-c10 --set dataset.batch_size=64 --set sampling.patches_per_epoch=3840 --set sampling.val_patches=1024 --set training.num_epochs=60 --set training.critic_iterations=10 --set loss.condition_balance=true --set weights.disc_weight=0.05 --set weights.mse_weight=0.95 --set loss.adversarial_conditions=d25_v720,d50_v360,d50_v720,d100_v360,d100_v720 --set loss.critic_warmup_iterations=120 --set selection.wgan_warmup_epochs=3 --set run.amp=true
#   Ctrl-C in epoch 7 (iteration 370)
for r in c9 c10; do python scripts/diagnose.py grain-history --state runs/wgan-$r/train_state.pt --every 1; done
# how large a margin the critic reaches against the fixed bundled MSE network, at the seed's and at 10x its learning rate
for lr in 1e-4 1e-3; do python scripts/diagnose.py critic-warmup --checkpoint resources/checkpoints/redcnn-mse.pt --data data/phantom-ds --steps 500 --lr $lr --conditions d25_v720,d50_v360,d50_v720,d100_v360,d100_v720; done
# the selected c9 checkpoint (epoch 5, the trainer's rule) on the test split, beside the bundled MSE network
ldct-train evaluate --checkpoint runs/mse-c3-best.pt --checkpoint runs/wgan-c9/best.pt --data data/phantom-ds --split test --out runs/eval10
# c11: a second stage from the bundled WGAN-GP with a freshly warmed critic (otherwise c9); Ctrl-C in epoch 6
ldct-train fit --mode wgan-gp --init runs/wgan-c9/best.pt --data data/phantom-ds --out runs/wgan-c11 --set dataset.batch_size=64 --set sampling.patches_per_epoch=3840 --set sampling.val_patches=1024 --set training.num_epochs=60 --set loss.condition_balance=true --set weights.disc_weight=0.05 --set weights.mse_weight=0.95 --set loss.adversarial_conditions=d25_v720,d50_v360,d50_v720,d100_v360,d100_v720 --set loss.critic_warmup_iterations=120 --set selection.wgan_warmup_epochs=3 --set run.amp=true
python scripts/diagnose.py grain-history --state runs/wgan-c11/train_state.pt --every 1

# Session 11 (2026-12-06): real anatomy + phantoms, randomized scanners, calibrated noise -> the bundled pair
# (resources/checkpoints/MODEL_CARD.md has the same commands with their results)
ldct-train sources --out data/sources
ldct-train phantoms --out data/phantoms --volumes 6 --slices 10 --slice-thickness 2 --fov-range 320,480 --seed 11
ldct-train dataset --ndct data/sources/train data/phantoms --out data/mixed-ds --randomize-scanner \
    --doses 5,10,17,25,50,100 --views 180,360,720 --reference-scan 100:1152 \
    --val-patients REAL-TOTALSEG-CTA-B,PHANTOM-11-5 --seed 3
git show c4457fd:resources/checkpoints/redcnn-mse.pt > runs/redcnn-mse-session8.pt
ldct-train fit --mode mse --data data/mixed-ds --out runs/mse-real --init runs/redcnn-mse-session8.pt \
    --set dataset.batch_size=16 --set sampling.patches_per_epoch=4800 --set sampling.val_patches=1024 \
    --set run.amp=true --set training.num_epochs=60 --set training.sample_interval=5          # Ctrl-C in epoch 7, best = 6
ADV=d5_v360,d5_v720,d10_v360,d10_v720,d17_v360,d17_v720,d25_v360,d25_v720,d50_v360,d50_v720,d100_v360,d100_v720
# probe, not used: disc_weight 0.3 / mse_weight 0.7 passed the input's noise back after one epoch
ldct-train fit --mode wgan-gp --data data/mixed-ds --out runs/wgan-seed --init runs/mse-real/best.pt \
    --set dataset.batch_size=16 --set sampling.patches_per_epoch=2880 --set sampling.val_patches=1024 \
    --set run.amp=true --set training.num_epochs=100 --set training.sample_interval=4 \
    --set weights.disc_weight=0.05 --set weights.mse_weight=0.95 --set loss.adversarial_conditions=$ADV \
    --set loss.critic_warmup_iterations=120                                                     # Ctrl-C in epoch 4, best = 3
ldct-train phantoms --out data/phantoms-test --volumes 4 --slices 3 --seed 77
ldct-train dataset --ndct data/phantoms-test --out data/phantom-test-ds --reference-scan 100:1152 --val-fraction 0.2 --test-fraction 0.6 --seed 77
ldct-train evaluate --checkpoint runs/mse-real/best.pt --checkpoint runs/wgan-seed/best.pt --data data/phantom-test-ds --slices 2 --out runs/phantom-eval
ldct-train evaluate-real --checkpoint runs/wgan-seed/best.pt --real data/sources/eval --slices 2 --out runs/real-eval-wgan
git show c4457fd:resources/checkpoints/redcnn-wgangp.pt > runs/redcnn-wgangp-session10.pt
ldct-train evaluate-real --checkpoint runs/redcnn-mse-session8.pt --checkpoint runs/redcnn-wgangp-session10.pt \
    --checkpoint runs/mse-real/best.pt --checkpoint runs/wgan-seed/best.pt --real data/sources/eval/pydicom-abdomen --slices 1 --out runs/real-eval-abdomen

# Session 12 (2026-12-06): a further MSE + WGAN-GP stage on data/mixed-ds (not bundled: history/HISTORY.md, Session 12)
ldct-train fit --mode mse --data data/mixed-ds --out runs/mse-s12 --init resources/checkpoints/redcnn-mse.pt \
    --set dataset.batch_size=16 --set sampling.patches_per_epoch=4800 --set sampling.val_patches=1024 \
    --set run.amp=true --set training.num_epochs=30 --set training.sample_interval=5          # Ctrl-C after epoch 7
ldct-train fit --mode wgan-gp --data data/mixed-ds --out runs/wgan-s12 --init runs/mse-s12/best.pt \
    --set dataset.batch_size=16 --set sampling.patches_per_epoch=2880 --set sampling.val_patches=1024 \
    --set run.amp=true --set training.num_epochs=100 --set training.sample_interval=4 \
    --set weights.disc_weight=0.05 --set weights.mse_weight=0.95 --set loss.adversarial_conditions=$ADV \
    --set loss.critic_warmup_iterations=120                                                     # Ctrl-C after epoch 7
for noise in image projection; do
  ldct-train evaluate-real --checkpoint runs/mse-s12/best.pt --checkpoint runs/wgan-s12/best.pt \
      --real data/sources/eval/pydicom-abdomen --slices 1 --noise $noise --out runs/real-eval-s12-$noise
done
ldct-train evaluate --checkpoint runs/mse-s12/best.pt --checkpoint runs/wgan-s12/best.pt --data data/phantom-test-ds --slices 2 --out runs/phantom-eval-s12
# the bundled pair with the image-domain evaluation noise (resources/checkpoints/evaluation_real_image.md)
ldct-train evaluate-real --checkpoint mse --checkpoint wgan-gp --real data/sources/eval/pydicom-abdomen --slices 1 --out runs/real-eval-image-bundled11

# Session 13 (2026-12-07): 720-view conditions only (sampling.conditions), a phantom-target MSE stage
# (sampling.train_volumes) and a WGAN-GP stage from the bundled WGAN-GP -> the bundled pair
# (resources/checkpoints/MODEL_CARD.md; history/HISTORY.md, Session 13). Worktree at 1cf4edf.
V720=d5_v720,d10_v720,d17_v720,d25_v720,d50_v720,d100_v720
# probe: MSE on every training volume, 720 views (Ctrl-C in epoch 3; grain rose with the real targets)
ldct-train fit --mode mse --data data/mixed-ds --out runs/mse-s13 --init resources/checkpoints/redcnn-mse.pt \
    --set dataset.batch_size=16 --set sampling.patches_per_epoch=2400 --set sampling.val_patches=1024 \
    --set sampling.conditions=$V720 --set run.amp=true --set training.num_epochs=30 --set training.sample_interval=5
# MSE: the phantom volumes of the training split only (their NDCT is an independent scan), 720 views
ldct-train fit --mode mse --data data/mixed-ds --out runs/mse-s13p --init resources/checkpoints/redcnn-mse.pt \
    --set dataset.batch_size=16 --set sampling.patches_per_epoch=2400 --set sampling.val_patches=1024 \
    --set sampling.conditions=$V720 --set sampling.train_volumes=vol001,vol002,vol003,vol004,vol005 \
    --set run.amp=true --set training.num_epochs=30 --set training.sample_interval=5     # Ctrl-C in epoch 4; best = 3
# WGAN-GP: continue the bundled WGAN-GP network, 720 views, every training volume, the seed's weights
ldct-train fit --mode wgan-gp --data data/mixed-ds --out runs/wgan-s13 --init resources/checkpoints/redcnn-wgangp.pt \
    --set dataset.batch_size=16 --set sampling.patches_per_epoch=2880 --set sampling.val_patches=1024 \
    --set sampling.conditions=$V720 --set run.amp=true --set training.num_epochs=100 --set training.sample_interval=4 \
    --set weights.disc_weight=0.05 --set weights.mse_weight=0.95 --set loss.critic_warmup_iterations=120  # Ctrl-C in epoch 7
# probe: WGAN-GP from the new MSE network (Ctrl-C in epoch 3)
ldct-train fit --mode wgan-gp --data data/mixed-ds --out runs/wgan-s13b --init runs/mse-s13p/epoch_002.pt \
    --set dataset.batch_size=16 --set sampling.patches_per_epoch=2880 --set sampling.val_patches=1024 \
    --set sampling.conditions=$V720 --set run.amp=true --set training.num_epochs=100 --set training.sample_interval=4 \
    --set weights.disc_weight=0.05 --set weights.mse_weight=0.95 --set loss.critic_warmup_iterations=120
# evaluation of the selected pair (MSE: best.pt = epoch 3; WGAN-GP: epoch 5, see the model card)
for noise in image projection; do
  ldct-train evaluate-real --checkpoint runs/mse-s13p/epoch_003.pt --checkpoint runs/wgan-s13/epoch_005.pt \
      --real data/sources/eval/pydicom-abdomen --slices 1 --noise $noise --out runs/real-eval-s13-$noise
done
ldct-train evaluate --checkpoint runs/mse-s13p/epoch_003.pt --checkpoint runs/wgan-s13/epoch_005.pt \
    --data data/phantom-test-ds --slices 2 --out runs/phantom-eval-s13
python scripts/bundle.py --mse runs/mse-s13p/epoch_003.pt --wgan runs/wgan-s13/epoch_005.pt \
    --eval runs/phantom-eval-s13 --real-eval runs/real-eval-s13-image --tables
cp runs/real-eval-s13-projection/table.md resources/checkpoints/evaluation_real_projection.md
ldct-train evaluate-real --checkpoint mse --checkpoint wgan-gp --real data/sources/eval --slices 2 --doses 25 --views 720 \
    --out runs/real-eval-s13-pooled-25-720    # resources/checkpoints/evaluation_real_pooled_25_720.md

# Session 14 (2026-12-07): the WGAN-GP network continued from the session-13 one, and the bundled file is
# the weight average of its epochs (ldct-train average); the MSE network is unchanged (session 13).
# Worktree at 31439d8 (the run) with main's `average` and `evaluate-real --noise matched` for the rest.
V720=d5_v720,d10_v720,d17_v720,d25_v720,d50_v720,d100_v720
ldct-train fit --mode wgan-gp --data data/mixed-ds --out runs/wgan-s14 --init resources/checkpoints/redcnn-wgangp.pt \
    --set dataset.batch_size=16 --set sampling.patches_per_epoch=1440 --set sampling.val_patches=1024 \
    --set sampling.conditions=$V720 --set run.amp=true --set training.num_epochs=100 --set training.sample_interval=10 \
    --set weights.disc_weight=0.05 --set weights.mse_weight=0.95 --set loss.critic_warmup_iterations=120  # Ctrl-C after epoch 21
# per-epoch screen (history/session14/wgan_epoch_screen.txt), for the record only: the bundled file is not chosen by it
for e in $(seq -w 1 20); do
  ldct-train evaluate-real --checkpoint runs/wgan-s14/epoch_0$e.pt --real data/sources/eval/pydicom-abdomen --slices 1 \
      --doses 25 --views 720
done
# the rule, fixed before the run was stopped: every epoch after the first (epoch 1 is critic-only warm-up)
ldct-train average runs/wgan-s14/epoch_0{02..21}.pt --out runs/wgan-s14/swa_02_21.pt \
    --note "every epoch after the first (epoch 1 is critic-only warm-up), the rule fixed before the run ended"
M=resources/checkpoints/redcnn-mse.pt W=runs/wgan-s14/swa_02_21.pt E=data/sources/eval
for noise in image projection; do
  ldct-train evaluate-real --checkpoint $M --checkpoint $W --real $E/pydicom-abdomen --slices 1 --noise $noise \
      --out runs/real-eval-s14-$noise
done
ldct-train evaluate-real --checkpoint $M --checkpoint $W --real $E/pydicom-abdomen $E/totalseg-cta-C --slices 4 \
    --noise matched --out runs/real-eval-s14-matched
ldct-train evaluate-real --checkpoint $M --checkpoint $W --real $E --slices 2 --doses 25 --views 720 \
    --out runs/real-eval-s14-pooled
ldct-train evaluate --checkpoint $M --checkpoint $W --data data/phantom-test-ds --slices 2 --out runs/phantom-eval-s14
python scripts/bundle.py --mse $M --wgan $W --eval runs/phantom-eval-s14 --real-eval runs/real-eval-s14-image --tables
cp runs/real-eval-s14-projection/table.md resources/checkpoints/evaluation_real_projection.md
cp runs/real-eval-s14-projection/table.csv resources/checkpoints/evaluation_real_projection.csv
cp runs/real-eval-s14-matched/table.md resources/checkpoints/evaluation_real_matched.md
cp runs/real-eval-s14-matched/table.csv resources/checkpoints/evaluation_real_matched.csv
cp runs/real-eval-s14-pooled/table.md resources/checkpoints/evaluation_real_pooled_25_720.md
