"""Where the diffusion engine's weights come from, and how they become a pipeline.

From the Hugging Face hub (the default), fetched into huggingface_hub's cache on the first ``build_pipeline`` (never
at import): EchoMimic v1's four checkpoints from ``BadToBest/EchoMimic`` (Apache-2.0), ``openai/whisper-tiny`` and
``stabilityai/sd-vae-ft-mse``.

From a folder, when one is given (``root``; the ``diffusion_path`` setting): the same checkpoint file names,
``whisper-tiny/`` and ``sd-vae-ft-mse/`` sub-folders (transformers / diffusers layouts), and optionally
``echomimic.json`` with the model sizes (absent: EchoMimic v1's full sizes). Tests build such a folder with tiny
random weights.

An ``fp16_cache`` folder (the ``diffusion_fp16_cache`` setting) keeps float16 safetensors copies of the pickled
checkpoints there: half the disk, no unpickling, faster loads next time.

This module imports torch, diffusers and transformers only inside functions, so the availability check stays cheap.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ECHOMIMIC_REPO = "BadToBest/EchoMimic"
WHISPER_REPO = "openai/whisper-tiny"
VAE_REPO = "stabilityai/sd-vae-ft-mse"
WHISPER_DIR, VAE_DIR = "whisper-tiny", "sd-vae-ft-mse"
WHISPER_FILES = ("config.json", "model.safetensors")
VAE_FILES = ("config.json", "diffusion_pytorch_model.safetensors")
CONFIG_FILE = "echomimic.json"
SHARED_FILES = ("reference_unet.pth", "face_locator.pth")


@dataclass(frozen=True)
class Variant:
    """One pair of EchoMimic denoising weights and the sampling they were made for."""

    denoising_unet: str
    motion_module: str
    steps: int
    guidance_scale: float

    @property
    def files(self) -> tuple[str, ...]:
        return (self.denoising_unet, self.motion_module, *SHARED_FILES)


VARIANTS = {
    "fast": Variant("denoising_unet_acc.pth", "motion_module_acc.pth", steps=6, guidance_scale=1.0),
    "quality": Variant("denoising_unet.pth", "motion_module.pth", steps=30, guidance_scale=2.5),
}


def missing_files(variant: Variant, root: Path | None = None) -> list[str]:
    """Files not on this machine yet, in the folder `root` or else the hub's cache (which is only looked at)."""
    wanted = [(ECHOMIMIC_REPO, "", name) for name in variant.files]
    wanted += [(WHISPER_REPO, WHISPER_DIR, name) for name in WHISPER_FILES]
    wanted += [(VAE_REPO, VAE_DIR, name) for name in VAE_FILES]
    if root is not None:
        return [f"{folder}/{name}".lstrip("/") for _, folder, name in wanted if not (root / folder / name).is_file()]
    from huggingface_hub import try_to_load_from_cache

    return [f"{repo}/{name}" for repo, _, name in wanted if not isinstance(try_to_load_from_cache(repo, name), str)]


@dataclass(frozen=True)
class WeightPaths:
    reference_unet: Path
    face_locator: Path
    denoising_unet: Path
    motion_module: Path
    whisper: Path
    vae: Path
    config: dict  # model sizes for the three of ours (keys "reference_net", "denoising_unet", "face_locator", ...)


def fetch(variant: Variant, root: Path | None = None) -> WeightPaths:
    """Local paths of every file: in the folder `root`, or from the hub, downloading what its cache lacks."""
    if root is not None:
        config_path = root / CONFIG_FILE
        config = json.loads(config_path.read_text()) if config_path.is_file() else {}
        return WeightPaths(root / SHARED_FILES[0], root / SHARED_FILES[1], root / variant.denoising_unet,
                           root / variant.motion_module, root / WHISPER_DIR, root / VAE_DIR, config)
    from huggingface_hub import hf_hub_download, snapshot_download

    get = lambda name: Path(hf_hub_download(ECHOMIMIC_REPO, name))  # noqa: E731
    whisper = snapshot_download(WHISPER_REPO, allow_patterns=list(WHISPER_FILES))
    vae = snapshot_download(VAE_REPO, allow_patterns=list(VAE_FILES))
    return WeightPaths(get(SHARED_FILES[0]), get(SHARED_FILES[1]), get(variant.denoising_unet),
                       get(variant.motion_module), Path(whisper), Path(vae), {})


def load_checkpoint(path: Path, fp16_cache: Path | None = None) -> dict:
    """A plain state dict from a pickled ``.pth`` (weights_only: tensors only, no code runs), or its fp16 copy."""
    import torch
    from safetensors.torch import load_file, save_file

    copy = fp16_cache / f"{path.stem}.fp16.safetensors" if fp16_cache else None
    if copy is not None and copy.is_file():
        return load_file(copy)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:  # legacy (non-zip) pickles cannot be memory-mapped
        state = torch.load(path, map_location="cpu", weights_only=True)
    if copy is not None:
        copy.parent.mkdir(parents=True, exist_ok=True)
        half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}
        save_file(half, copy.with_suffix(".tmp"))
        copy.with_suffix(".tmp").rename(copy)  # atomic: a half-written copy is never picked up
    return state


def build_pipeline(variant: Variant, device: str, dtype=None, root: Path | None = None,
                   fp16_cache: Path | None = None):
    """Fetch (if needed) and load everything into an EchoMimicPipeline on ``device``; every load is strict. `root`
    and `fp16_cache` as for ``fetch`` and ``load_checkpoint``."""
    import torch
    from diffusers import AutoencoderKL

    from .audio_encoder import AudioEncoder
    from .denoising_unet import DenoisingUNet
    from .face_locator import FaceLocator
    from .pipeline import EchoMimicPipeline, make_scheduler
    from .reference_net import ReferenceNet

    paths = fetch(variant, root)
    sizes = paths.config

    def load(cls, kwargs: dict, *files: Path):
        with torch.device("meta"):  # no memory for random init: the checkpoint's tensors are assigned as they are
            model = cls(**kwargs)
        state = {}
        for file in files:
            state.update(load_checkpoint(file, fp16_cache))
        model.load_state_dict(state, strict=True, assign=True)
        return model.eval()

    pipe = EchoMimicPipeline(
        vae=AutoencoderKL.from_pretrained(paths.vae, low_cpu_mem_usage=False),  # no accelerate needed
        reference_net=load(ReferenceNet, sizes.get("reference_net", {}), paths.reference_unet),
        denoising_unet=load(DenoisingUNet, sizes.get("denoising_unet", {}), paths.denoising_unet, paths.motion_module),
        face_locator=load(FaceLocator, sizes.get("face_locator", {}), paths.face_locator),
        audio_encoder=AudioEncoder.from_pretrained(str(paths.whisper)).eval(),
        scheduler=make_scheduler(),
    )
    dtype = dtype or (torch.float16 if device.startswith("cuda") else torch.float32)
    return to_device(pipe, device, dtype), sizes.get("resolution", 512)


def to_device(pipe, device: str, dtype):
    """Move and cast every model of the pipeline.

    Through torch's own ``Module.to``: diffusers 0.42's override warns about float32-only modules on every cast,
    even when a model has none.
    """
    import torch

    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            torch.nn.Module.to(component, device, dtype)
    return pipe
