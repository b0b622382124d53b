import dataclasses

import pytest

import kit
from kit.profiles import PROFILES


def test_named_profiles_and_env(monkeypatch):
    for name in ("smoke", "cpu", "full"):
        assert kit.profile(name).name == name
        monkeypatch.setenv("KIT_PROFILE", name.upper())
        assert kit.profile().name == name


def test_default_depends_on_gpu(monkeypatch):
    monkeypatch.delenv("KIT_PROFILE", raising=False)
    monkeypatch.setattr("kit.profiles.gpu_available", lambda: False)
    assert kit.profile().name == "cpu"
    monkeypatch.setattr("kit.profiles.gpu_available", lambda: True)
    assert kit.profile().name == "full"


def test_unknown_profile_is_rejected(monkeypatch):
    with pytest.raises(ValueError, match=r"Unknown run profile 'huge'.*\['cpu', 'full', 'smoke'\]"):
        kit.profile("huge")
    monkeypatch.setenv("KIT_PROFILE", "gpu")
    with pytest.raises(ValueError, match=r"\$KIT_PROFILE"):
        kit.profile()


def test_profiles_scale_up():
    smoke, cpu, full = PROFILES["smoke"], PROFILES["cpu"], PROFILES["full"]
    assert smoke.train_samples < 60000 and cpu.train_samples is None and full.train_samples is None
    for field in ("classifier_epochs", "improved_epochs", "attack_samples", "pgd_steps"):
        assert getattr(smoke, field) <= getattr(cpu, field) <= getattr(full, field), field
    for p in PROFILES.values():
        assert 0.1 in p.epsilons and p.epsilons[0] == 0.0 and max(p.epsilons) == pytest.approx(0.3)
        assert isinstance(p.jit_compile, bool)


def test_replace_checks_fields():
    p = kit.profile("smoke").replace(classifier_epochs=2)
    assert p.classifier_epochs == 2 and dataclasses.is_dataclass(p)
    with pytest.raises(TypeError, match="no field"):
        kit.profile("smoke").replace(epoch=2)
