# The bundled checkpoints, session 2 (2026-12-01): run from the repository root, CPU only
# (2 cores, torch 2.13.0+cpu). Ctrl-C = the run was interrupted there (state saved) to fit the session.
ldct-train phantoms --out data/phantoms --volumes 24 --slices 3 --seed 2026
ldct-train dataset --ndct data/phantoms --out data/phantom-ds --seed 2026 --val-fraction 0.125 --test-fraction 0.125 --reference-scan 100:1152
# MSE stage 1: the seed's plain MSE, identity start
ldct-train fit --mode mse --data data/phantom-ds --out runs/mse --set dataset.batch_size=16 --set sampling.patches_per_epoch=960 --set sampling.val_patches=256 --set training.num_epochs=40 --set training.learning_rate=2e-4
#   stopped during epoch 8 (blurring the 720-view conditions); runs/mse/best.pt = epoch 6
# MSE stage 2: condition-balanced MSE, from stage 1  -> redcnn-mse.pt
ldct-train fit --mode mse --init runs/mse/best.pt --data data/phantom-ds --out runs/mse-bal --set dataset.batch_size=16 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=40 --set training.learning_rate=2e-4 --set loss.condition_balance=true
#   Ctrl-C during epoch 9; runs/mse-bal/best.pt = epoch 8 (lowest balanced validation loss)
# WGAN-GP: from the MSE checkpoint, balanced MSE term, seed learning rate 1e-4  -> redcnn-wgangp.pt
ldct-train fit --mode wgan-gp --init runs/mse-bal/best.pt --data data/phantom-ds --out runs/wgan --set dataset.batch_size=16 --set sampling.patches_per_epoch=960 --set sampling.val_patches=480 --set training.num_epochs=30 --set loss.condition_balance=true
#   Ctrl-C during epoch 5, resumed: ldct-train fit --mode wgan-gp --data data/phantom-ds --out runs/wgan --resume
#   Ctrl-C during epoch 10. No epoch beat the input in every validation condition (selection.wgan_beat_input),
#   so best.pt = last; the bundled one is runs/wgan/epoch_007.pt, the epoch closest to it (worst condition
#   d50_v720 at 1.02 x the input's validation RMSE).
# (a variant with training.learning_rate=2e-5 into runs/wgan-slow was stopped after epoch 1: worst 1.49 x input)
ldct-train evaluate --checkpoint runs/mse-bal/best.pt --checkpoint runs/wgan/epoch_007.pt --data data/phantom-ds --split test --out runs/eval
# copy into resources/checkpoints with the test evaluation embedded in the metadata (weights unchanged):
python resources/checkpoints/bundle.py
