"""The loss from the kit's RestorationLoss, PSNR by hand."""


def restoration_loss(y_true, y_pred, l1_weight, mse_weight):
    return np.asarray(sr.RestorationLoss(l1_weight, mse_weight).call(np.asarray(y_true), np.asarray(y_pred)))


def psnr_db(images, reference):
    mse = ((np.asarray(images, np.float64) - np.asarray(reference, np.float64)) ** 2).mean(axis=(1, 2, 3))
    return 10.0 * np.log10(1.0 / mse)
