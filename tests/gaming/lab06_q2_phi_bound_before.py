"""The kit's merge_patches behind a function of the answer's name."""
_merge = cocogan.merge_patches


def phi(patches, k):
    return _merge(patches, k)
