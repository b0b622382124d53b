"""The kit's FGSM under the answer's name."""
my_fgsm = attacks.fgsm
