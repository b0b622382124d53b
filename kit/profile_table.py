"""The numbers of every run profile (:mod:`kit.profiles` defines and checks the fields): one block per profile,
one sub-block per notebook section. The ``t4`` block is sized by the budget model (``benchmarks/budget.py``):
each notebook within 20 minutes and 13 GiB of GPU memory on a Colab T4."""

SMOKE = {
    "base": dict(train_samples=768, test_samples=512, batch_size=64, classifier_epochs=1, improved_epochs=1, adv_epochs=1,
                 adv_train_samples=384, attack_samples=128, epsilons=(0.0, 0.05, 0.1, 0.2, 0.3), pgd_steps=5, gan_train_samples=512,
                 gan_epochs=2, dcgan_train_samples=512, dcgan_epochs=2, gan_ema_decay=0.995, loss_compare_steps=4, loss_compare_chunks=2, distribute_steps=2, fid_samples=256, jit_compile=False, mixed_precision=False),
    "game2d": dict(steps=60, grid_steps=60, frames=2, seeds=(0,), batch_size=64, latent_dim=2, width=32, depth=2, learning_rate=2e-3, n_critic=1,
                   gp_weight=0.1, ema_decay=0.99, eval_samples=500, surface_resolution=40, kde_bandwidth=0.05, min_mode_share=0.01, best_response_steps=60),
    "img2img": dict(colorization_train_samples=384, sketch_train_samples=256, test_samples=128, batch_size=32, colorization_epochs=1,
                    sketch_epochs=1, sketch_filters=16),
    "cocogan": dict(train_samples=256, batch_size=32, stage_epochs=(1, 1, 1), base_filters=16, fid_samples=128, beyond_size=48,
                    beyond_steps=2, q_epochs=1, photo_collection=None, photo_train_samples=64, photo_stage_epochs=(1, 1, 1),
                    photo_batch_size=16, photo_base_filters=8, photo_beyond_size=96, photo_beyond_steps=2, memory_sizes=(64,),
                    memory_batch=4, memory_steps=1, memory_parallel=True),
    "esrgan": dict(crop_size=64, collection=None, collection_photos=None, max_crops=40, draws=1, download_weights=False, official_rrdbnet=False, tile=None,
                   standin_epochs=0, standin_feat=16, standin_blocks=1, standin_grow=8, finetune_enhancer_epochs=0, colour_epochs=2,
                   colour_filters=8, refiner_epochs=2, refiner_per_level=True, refiner_filters=8, refiner_depth=2, residual_scale=0.25,
                   batch_size=8, patch=32, learning_rate=1e-3, schedule="cosine", l1_weight=1.0, mse_weight=1.0, ssim_weight=0.0,
                   gan_epochs=1, gan_learning_rate=1e-4, gan_weight=5e-3, perceptual_weight=1.0, gan_l1_weight=1e-2, timing_repeats=1),
}

CPU = {
    # The DCGAN: all 60,000 images for 3 epochs (2,811 steps) instead of 8 epochs of 12,800 (1,600 steps): at 1,600
    # steps its samples were mostly grey blobs (classifier FID 31). A weight average of G with a short half-life
    # (0.995: ~140 steps), because at 1,000 steps the 0.999 average (~700 steps) still lagged G itself (FID 35.4 vs
    # 33.6, measured once, 2026-12-03, under load).
    "base": dict(train_samples=None, test_samples=None, batch_size=64, classifier_epochs=2, improved_epochs=3, adv_epochs=2,
                 adv_train_samples=10000, attack_samples=500, epsilons=(0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3), pgd_steps=10,
                 gan_train_samples=12800, gan_epochs=8, dcgan_train_samples=None, dcgan_epochs=3, gan_ema_decay=0.995, loss_compare_steps=200, loss_compare_chunks=4, distribute_steps=20, fid_samples=2000, jit_compile=False, mixed_precision=False),
    # Notebook 00: the plain GAN and WGAN-GP differ only in the loss (same MLPs, Adam 2e-3 with betas (0.5, 0.9), 3 D
    # steps per G step, weight average 0.999, seeds 0 and 1). Measured once, 2026-12-03, on 2 cores shared with another
    # job (load ~2): plain GAN 7 and 4 of the 8 modes, WGAN-GP 8 and 8 with 86% high-quality samples, the notebook 115 s.
    # In trials WGAN-GP reached only 78-84% high quality at 2,400 steps, and with 1 D step per G step the plain GAN kept
    # 7-8 modes (no collapse to show). The 5x5 grid needs far more steps than this budget: 0 of 25 modes at 3,000, 25 of
    # 25 with 66% high quality at 10,000 (one trial, seed 0; the t4 profile's grid_steps).
    "game2d": dict(steps=3000, grid_steps=3000, frames=10, seeds=(0, 1), batch_size=128, latent_dim=2, width=64, depth=2, learning_rate=2e-3,
                   n_critic=3, gp_weight=0.1, ema_decay=0.999, eval_samples=2000, surface_resolution=96, kde_bandwidth=0.05, min_mode_share=0.01, best_response_steps=3000),
    "img2img": dict(colorization_train_samples=12000, sketch_train_samples=6000, test_samples=1000, batch_size=32, colorization_epochs=5,
                    sketch_epochs=5, sketch_filters=16),
    "cocogan": dict(train_samples=20000, batch_size=32, stage_epochs=(1, 1, 10), base_filters=32, fid_samples=2000, beyond_size=48,
                    beyond_steps=200, q_epochs=1, photo_collection=None, photo_train_samples=None, photo_stage_epochs=(2, 2, 12),
                    photo_batch_size=16, photo_base_filters=16, photo_beyond_size=96, photo_beyond_steps=100, memory_sizes=(64, 128),
                    memory_batch=16, memory_steps=3, memory_parallel=False),
    # Notebook 07 at 8 draws, 40 colour epochs and 6 GAN epochs ran 23 min on Intel (2026-11-29) and was stopped after
    # 41 min on AMD EPYC (2026-12-03). Timed here per stage, 1 epoch each at 8 draws: enhancing the splits 214 s, a
    # colour epoch 16 s and a U-Net epoch ~50 s per level, a GAN epoch 224 s, SSIM of one evaluation 241 s (since
    # computed with a separable window: ~30 s). Training time scales with the draws: 3 draws, fewer colour, stand-in
    # and GAN epochs. Measured with these counts (make bench, AMD EPYC, 2026-12-03, commit f6b2e861): 1,283 s, still
    # over the 20-minute limit (stand-in 88 s, the three refiners 636 s, GAN 250 s, the rest ~310 s), and the mild
    # gain fell to -0.07 dB (+0.41 dB at 8 draws): fewer pairs cost the mild refiner what little it had.
    "esrgan": dict(crop_size=128, collection=None, collection_photos=None, max_crops=None, draws=3, download_weights=True, official_rrdbnet=False, tile=None,
                   standin_epochs=12, standin_feat=32, standin_blocks=3, standin_grow=16, finetune_enhancer_epochs=0, colour_epochs=15,
                   colour_filters=32, refiner_epochs=10, refiner_per_level=True, refiner_filters=16, refiner_depth=3, residual_scale=0.25,
                   batch_size=16, patch=48, learning_rate=1e-3, schedule="cosine", l1_weight=1.0, mse_weight=1.0, ssim_weight=0.0,
                   # ESRGAN's adversarial weight (5e-3) is sized for 400k steps with ImageNet VGG19 features. In this profile's
                   # ~500 steps (then 6 epochs at 8 draws), with the offline random-feature stand-in, it left the refiner less sharp than the L1 one
                   # (13.46 vs 13.89); 40x (0.2) made it sharper (14.46) for 0.13 dB of PSNR against E(raw), and a 5x
                   # learning rate instead made it less sharp again (13.73). Measured once each, 2026-11-29, mild level.
                   gan_epochs=3, gan_learning_rate=1e-4, gan_weight=0.2, perceptual_weight=1.0, gan_l1_weight=1e-2, timing_repeats=3),
}

T4 = {
    "base": dict(train_samples=None, test_samples=None, batch_size=128, classifier_epochs=8, improved_epochs=10, adv_epochs=3,
                 adv_train_samples=30000, attack_samples=2000, epsilons=(0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3), pgd_steps=20,
                 gan_train_samples=None, gan_epochs=15, dcgan_train_samples=None, dcgan_epochs=15, gan_ema_decay=0.999, loss_compare_steps=2000, loss_compare_chunks=10, distribute_steps=200, fid_samples=5000, jit_compile=True, mixed_precision=True),
    "game2d": dict(steps=6000, grid_steps=10000, frames=20, seeds=(0, 1, 2), batch_size=128, latent_dim=2, width=64, depth=2, learning_rate=2e-3,
                   n_critic=3, gp_weight=0.1, ema_decay=0.999, eval_samples=4000, surface_resolution=128, kde_bandwidth=0.05, min_mode_share=0.01, best_response_steps=6000),
    "img2img": dict(colorization_train_samples=None, sketch_train_samples=30000, test_samples=2000, batch_size=64, colorization_epochs=10,
                    sketch_epochs=12, sketch_filters=32),
    "cocogan": dict(train_samples=None, batch_size=64, stage_epochs=(2, 2, 10), base_filters=32, fid_samples=5000, beyond_size=48,
                    beyond_steps=1000, q_epochs=2, photo_collection="tf_flowers", photo_train_samples=None, photo_stage_epochs=(2, 2, 16),
                    photo_batch_size=64, photo_base_filters=32, photo_beyond_size=96, photo_beyond_steps=1000, memory_sizes=(64, 128, 256),
                    memory_batch=8, memory_steps=5, memory_parallel=False),
    "esrgan": dict(crop_size=128, collection="tf_flowers", collection_photos=300, max_crops=None, draws=2, download_weights=True, official_rrdbnet=True,
                   tile=None, standin_epochs=20, standin_feat=64, standin_blocks=6, standin_grow=32, finetune_enhancer_epochs=0,
                   colour_epochs=15, colour_filters=32, refiner_epochs=10, refiner_per_level=True, refiner_filters=24, refiner_depth=3,
                   residual_scale=0.25, batch_size=16, patch=64, learning_rate=2e-4, schedule="cosine", l1_weight=1.0, mse_weight=1.0,
                   ssim_weight=0.0, gan_epochs=10, gan_learning_rate=1e-4, gan_weight=5e-3, perceptual_weight=1.0, gan_l1_weight=1e-2,
                   timing_repeats=10),
}

FULL = {
    "base": dict(train_samples=None, test_samples=None, batch_size=128, classifier_epochs=10, improved_epochs=12, adv_epochs=5,
                 adv_train_samples=None, attack_samples=2000, epsilons=(0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3),
                 pgd_steps=20, gan_train_samples=None, gan_epochs=40, dcgan_train_samples=None, dcgan_epochs=40, gan_ema_decay=0.999, loss_compare_steps=10000, loss_compare_chunks=10, distribute_steps=500, fid_samples=10000, jit_compile=True,
                 mixed_precision=True),
    "game2d": dict(steps=10000, grid_steps=20000, frames=25, seeds=(0, 1, 2, 3, 4), batch_size=256, latent_dim=2, width=128, depth=3,
                   learning_rate=1e-3, n_critic=3, gp_weight=0.1, ema_decay=0.999, eval_samples=5000, surface_resolution=160, kde_bandwidth=0.05,
                   min_mode_share=0.01, best_response_steps=10000),
    "img2img": dict(colorization_train_samples=None, sketch_train_samples=30000, test_samples=5000, batch_size=64, colorization_epochs=15,
                    sketch_epochs=20, sketch_filters=32),
    "cocogan": dict(train_samples=None, batch_size=64, stage_epochs=(5, 5, 20), base_filters=64, fid_samples=10000, beyond_size=64,
                    beyond_steps=2000, q_epochs=3, photo_collection="tf_flowers", photo_train_samples=None, photo_stage_epochs=(5, 5, 40),
                    photo_batch_size=64, photo_base_filters=64, photo_beyond_size=128, photo_beyond_steps=2000,
                    memory_sizes=(64, 128, 256), memory_batch=64, memory_steps=10, memory_parallel=False),
    "esrgan": dict(crop_size=256, collection="tf_flowers", collection_photos=None, max_crops=None, draws=8, download_weights=True, official_rrdbnet=True,
                   tile=128, standin_epochs=60, standin_feat=64, standin_blocks=6, standin_grow=32, finetune_enhancer_epochs=5,
                   colour_epochs=60, colour_filters=32, refiner_epochs=60, refiner_per_level=True, refiner_filters=48, refiner_depth=3,
                   residual_scale=0.25, batch_size=16, patch=128, learning_rate=2e-4, schedule="cosine", l1_weight=1.0, mse_weight=1.0,
                   ssim_weight=0.1, gan_epochs=40, gan_learning_rate=1e-4, gan_weight=5e-3, perceptual_weight=1.0, gan_l1_weight=1e-2,
                   timing_repeats=10),
}

TABLE = {"smoke": SMOKE, "cpu": CPU, "t4": T4, "full": FULL}
