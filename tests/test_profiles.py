import dataclasses

import pytest

import kit
from kit.profiles import PROFILES


def test_named_profiles_and_env(monkeypatch):
    for name in ("smoke", "cpu", "t4", "full"):
        assert kit.profile(name).name == name
        monkeypatch.setenv("KIT_PROFILE", name.upper())
        assert kit.profile().name == name


def test_default_is_t4_on_a_gpu_and_cpu_elsewhere(monkeypatch):
    monkeypatch.delenv("KIT_PROFILE", raising=False)
    monkeypatch.setattr("kit.profiles.gpu_available", lambda: False)
    assert kit.profile().name == "cpu"
    monkeypatch.setattr("kit.profiles.gpu_available", lambda: True)
    assert kit.profile().name == "t4"


def test_unknown_profile_is_rejected(monkeypatch):
    with pytest.raises(ValueError, match=r"Unknown run profile 'huge'.*\['cpu', 'full', 'smoke', 't4'\]"):
        kit.profile("huge")
    monkeypatch.setenv("KIT_PROFILE", "gpu")
    with pytest.raises(ValueError, match=r"\$KIT_PROFILE"):
        kit.profile()


def test_profiles_scale_up():
    smoke, cpu, t4 = PROFILES["smoke"], PROFILES["cpu"], PROFILES["t4"]
    assert smoke.train_samples < 60000 and cpu.train_samples is None and t4.train_samples is None
    for field in ("classifier_epochs", "improved_epochs", "attack_samples", "pgd_steps", "gan_epochs", "fid_samples"):
        assert getattr(smoke, field) <= getattr(cpu, field) <= getattr(t4, field), field
    for p in PROFILES.values():
        assert 0.1 in p.epsilons and p.epsilons[0] == 0.0 and max(p.epsilons) == pytest.approx(0.3)
    # XLA and mixed precision on the GPU profiles only (both measured slower on a 2-core CPU).
    assert [p.jit_compile for p in (smoke, cpu)] == [False, False] and t4.jit_compile and t4.mixed_precision
    # The CPU profiles work offline: no photo collection to download.
    assert smoke.esrgan.collection is None and cpu.cocogan.photo_collection is None
    assert t4.esrgan.collection == t4.cocogan.photo_collection == "tf_flowers"


def test_replace_checks_fields():
    p = kit.profile("smoke").replace(classifier_epochs=2)
    assert p.classifier_epochs == 2 and dataclasses.is_dataclass(p)
    with pytest.raises(TypeError, match="no field"):
        kit.profile("smoke").replace(epoch=2)


@pytest.mark.parametrize("change, error, match", [
    (dict(batch_size=0), ValueError, "smoke.batch_size must be a positive integer, got 0"),
    (dict(gan_epochs=-3), ValueError, "smoke.gan_epochs must be a positive integer, got -3"),
    (dict(gan_epochs=2.5), TypeError, "smoke.gan_epochs must be an integer, got 2.5"),
    (dict(train_samples="100"), TypeError, "smoke.train_samples must be an integer, got '100'"),
    (dict(jit_compile=1), TypeError, "smoke.jit_compile must be True or False"),
    (dict(epsilons=(0.0, 0.2)), ValueError, "include 0.1"),
    (dict(epsilons=()), TypeError, "epsilons must be a non-empty tuple"),
])
def test_invalid_profile_fields_are_refused_with_their_name(change, error, match):
    with pytest.raises(error, match=match):
        kit.profile("smoke").replace(**change)


def test_invalid_section_fields_are_refused():
    e = kit.profile("smoke").esrgan
    with pytest.raises(ValueError, match=r"learning_rate must lie in \(0.0, 1.0\], got -0.001"):
        e.replace(learning_rate=-1e-3)
    with pytest.raises(ValueError, match="collection must be one of"):
        e.replace(collection="imagenet")
    with pytest.raises(ValueError, match="stage_epochs must hold 3 values"):
        kit.profile("smoke").cocogan.replace(stage_epochs=(1, 1))
    assert e.replace(colour_epochs=0).colour_epochs == 0  # 0 is allowed where it means "leave it out"
