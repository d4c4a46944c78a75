"""Our EchoMimic v1 modules, built at full size on the meta device (no memory, no weights), hold exactly the keys and
shapes of the published checkpoints, file by file: so the real files load strictly. Plus the pieces of the pipeline
that are easy to get subtly wrong."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import torch

from emo.diffusion.denoising_unet import DenoisingUNet
from emo.diffusion.face_locator import FaceLocator
from emo.diffusion.pipeline import context_windows, make_scheduler
from emo.diffusion.reference_net import ReferenceNet

MANIFEST = Path(__file__).parent / "data" / "echomimic_v1_keys.tsv"  # from shared/reference (see its README)


def _manifest() -> dict[str, dict[str, tuple[int, ...]]]:
    files: dict[str, dict[str, tuple[int, ...]]] = defaultdict(dict)
    for line in MANIFEST.read_text().splitlines():
        file, key, shape = line.split("\t")
        files[file][key] = tuple(int(n) for n in shape.strip("()").split(",") if n.strip())
    return files


def _shapes(model: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def full_size():
    with torch.device("meta"):
        return {"reference": ReferenceNet(), "denoising": DenoisingUNet(), "face_locator": FaceLocator()}


def test_manifest_covers_the_four_files():
    assert {f: len(k) for f, k in _manifest().items()} == {
        "reference_unet.pth": 570, "denoising_unet.pth": 686, "motion_module.pth": 588, "face_locator.pth": 16}


@pytest.mark.parametrize("model, files", [
    ("reference", ["reference_unet.pth"]),
    ("denoising", ["denoising_unet.pth", "motion_module.pth"]),  # the acc files have the same layout
    ("face_locator", ["face_locator.pth"]),
])
def test_full_size_modules_match_the_checkpoints(full_size, model, files):
    manifest = _manifest()
    expected = {k: v for f in files for k, v in manifest[f].items()}
    ours = _shapes(full_size[model])
    assert sorted(set(expected) - set(ours)) == []  # nothing the checkpoint has is missing here
    assert sorted(set(ours) - set(expected)) == []  # and nothing here would stay uninitialised
    assert {k: ours[k] for k in expected if ours[k] != expected[k]} == {}


def test_motion_keys_are_exactly_the_motion_module_file(full_size):
    ours = {k for k in _shapes(full_size["denoising"]) if ".motion_modules." in k}
    assert ours == set(_manifest()["motion_module.pth"])


def test_reference_and_denoising_blocks_pair_by_name(full_size):
    """Each denoising transformer block reads the ReferenceNet block with the same path."""
    from emo.diffusion.unet_blocks import TransformerBlock

    names = {m: [b.name for b in full_size[m].modules() if isinstance(b, TransformerBlock)]
             for m in ("reference", "denoising")}
    assert names["reference"] == names["denoising"] and len(names["reference"]) == 16
    assert all(n.endswith(".transformer_blocks.0") for n in names["reference"])


def test_context_windows_overlap_wrap_and_move():
    assert context_windows(8, 12, 3, 0) == [list(range(8))]
    assert context_windows(8, 12, 3, 2) == [[2, 3, 4, 5, 6, 7, 0, 1]]
    windows = context_windows(20, 12, 3, 0)
    assert [w[0] for w in windows] == [0, 9, 18] and windows[2][:3] == [18, 19, 0]
    assert context_windows(20, 12, 3, 4)[0][:2] == [4, 5]
    for n in (13, 30, 97):  # every frame is in some window, whatever the shift
        assert all(sorted(set(sum(context_windows(n, 12, 3, s), []))) == list(range(n)) for s in (0, 6))


def test_scheduler_is_zero_snr_v_prediction_with_trailing_steps():
    scheduler = make_scheduler()
    scheduler.set_timesteps(6)
    assert scheduler.config.prediction_type == "v_prediction"
    assert scheduler.timesteps.tolist() == [999, 832, 666, 499, 332, 166]
    assert scheduler.alphas_cumprod[-1] < 1e-6  # zero terminal SNR: the first step starts from pure noise
