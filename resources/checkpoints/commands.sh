ldct-train phantoms --out data/phantoms --volumes 16 --slices 3 --seed 2026
ldct-train dataset --ndct data/phantoms --out data/phantom-ds --seed 2026 --val-fraction 0.125 --test-fraction 0.125
ldct-train fit --mode mse --data data/phantom-ds --out runs/mse --set dataset.batch_size=16 --set sampling.patches_per_epoch=1440 --set sampling.val_patches=256 --set training.num_epochs=16
ldct-train fit --mode mse --data data/phantom-ds --out runs/mse --resume --set training.num_epochs=28
ldct-train fit --mode wgan-gp --init runs/mse/best.pt --data data/phantom-ds --out runs/wgan --set dataset.batch_size=16 --set sampling.patches_per_epoch=2400 --set sampling.val_patches=256 --set training.num_epochs=10
# interrupted (Ctrl-C) during epoch 9 at 10:45 to leave time for evaluation; best.pt = epoch 5
ldct-train evaluate --checkpoint runs/mse/best.pt --checkpoint runs/wgan/best.pt --data data/phantom-ds --split test --slices 2 --out runs/eval
