"""Small phantoms, built and written once per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from vesalius.simulate.brain_mr import BrainMR, BrainMRSpec, brain_mr, write_brain_mr
from vesalius.simulate.chest_ct import ChestCT, ChestCTSpec, chest_ct, write_chest_ct
from vesalius.simulate.pet_ct import PetCT, PetCTSpec, pet_ct, write_pet_ct
from vesalius.simulate.study import WrittenPhantom

CHEST_SPEC = ChestCTSpec(shape=(100, 128, 128), noise_hu=0.0)
PET_SPEC = PetCTSpec(ct_shape=(40, 64, 64), pet_shape=(50, 64, 64))
BRAIN_SPEC = BrainMRSpec(shape=(40, 64, 64))


@pytest.fixture(scope="module")
def chest() -> ChestCT:
    return chest_ct(CHEST_SPEC, seed=5)


@pytest.fixture(scope="module")
def chest_written(chest: ChestCT, tmp_path_factory: pytest.TempPathFactory) -> WrittenPhantom:
    return write_chest_ct(chest, tmp_path_factory.mktemp("chest"))


@pytest.fixture(scope="module")
def petct() -> PetCT:
    return pet_ct(PET_SPEC, seed=2)


@pytest.fixture(scope="module")
def petct_written(petct: PetCT, tmp_path_factory: pytest.TempPathFactory) -> WrittenPhantom:
    return write_pet_ct(petct, tmp_path_factory.mktemp("petct"))


@pytest.fixture(scope="module")
def brain() -> BrainMR:
    return brain_mr(BRAIN_SPEC, seed=1)


@pytest.fixture(scope="module")
def brain_written(brain: BrainMR, tmp_path_factory: pytest.TempPathFactory) -> WrittenPhantom:
    return write_brain_mr(brain, tmp_path_factory.mktemp("brain"))


def series_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("IMG*.dcm"))
