"""The diffusion engine: EchoMimic v1 weights through our own pipeline (``emo.diffusion``), meant for a GPU.

This module stays light: torch, diffusers and transformers are imported only when the engine is checked or loaded.
Its settings (``diffusion_*`` in ``emo/settings.py``) are read when it is checked or loaded.

It follows the voice (whisper features of ``job.audio.vocals``), the face box and the seed; not the motion plan:
EchoMimic v1 has no pose input, so the head moves as the model draws it.
"""
from __future__ import annotations

from importlib.util import find_spec
from typing import Iterator

import numpy as np

from .. import settings
from ..errors import EngineUnavailable
from ..messages import Message
from . import Cost, Progress, RenderJob

FACE_MASK_MARGIN = 0.1  # the face box grows by this fraction of its size on every side, as EchoMimic's masks do
CONTEXT_FRAMES, CONTEXT_OVERLAP = 12, 3
DECODE_CHUNK = 16  # frames per VAE decode: bounds the decoder's memory at 512 x 512
DENOISE_SHARE = 0.9  # of the render time, for progress reports

NO_GPU = Message("engine.no_gpu")
MISSING_PACKAGES = Message("engine.missing_packages")
NOT_DOWNLOADED = Message("engine.not_downloaded")


def _device() -> str | None:
    """Where to run: the diffusion_device setting, else CUDA when there is one, else None."""
    chosen = settings.current().diffusion_device
    if chosen:
        return chosen
    import torch

    return "cuda" if torch.cuda.is_available() else None


def face_mask(box: tuple[float, float, float, float], scale: float, size: int) -> np.ndarray:
    """(size, size) float32 mask, 1 over the face box (in portrait pixels, times ``scale``) plus its margin."""
    x0, y0, x1, y1 = (v * scale for v in box)
    pad_x, pad_y = (x1 - x0) * FACE_MASK_MARGIN, (y1 - y0) * FACE_MASK_MARGIN
    mask = np.zeros((size, size), np.float32)
    c0, c1 = max(0, round(x0 - pad_x)), min(size, round(x1 + pad_x))
    r0, r1 = max(0, round(y0 - pad_y)), min(size, round(y1 + pad_y))
    mask[r0:r1, c0:c1] = 1.0
    return mask


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[0] == size and image.shape[1] == size:
        return image
    from PIL import Image

    return np.array(Image.fromarray(image).resize((size, size), Image.Resampling.LANCZOS))  # writable


class DiffusionEngine:
    name = "diffusion"
    controls = frozenset({"seed"})  # the seed fixes the noise; head motion is the model's own (see above)
    cost = Cost(20.0, 2.0)  # a planning figure for one large GPU, 6 steps, until benchmarks/diffusion_speed.py runs
    preference = 10  # better than warp wherever it can run

    def __init__(self, pipe, variant, resolution: int):
        self.pipe, self.variant, self.resolution = pipe, variant, resolution

    @classmethod
    def unavailable_reason(cls, auto: bool) -> str | None:
        """None when the engine can run here; else one sentence for the user. With auto, nothing is downloaded."""
        if any(find_spec(m) is None for m in ("torch", "diffusers", "transformers", "huggingface_hub")):
            return MISSING_PACKAGES
        from ..diffusion.weights import VARIANTS, missing_files

        config = settings.current()
        # the weights first: looking at files is cheaper than importing torch to ask for CUDA
        if config.diffusion_path is not None or auto:
            missing = missing_files(VARIANTS[config.diffusion_variant], config.diffusion_path)
            if missing and config.diffusion_path is not None:
                return Message("host.diffusion_path_lacks", path=config.diffusion_path, missing=", ".join(missing))
            if missing:
                return NOT_DOWNLOADED
        if _device() is None:
            return NO_GPU
        return None

    @classmethod
    def load(cls) -> "DiffusionEngine":
        from ..diffusion.weights import VARIANTS, build_pipeline

        config, device = settings.current(), _device()
        if device is None:
            raise EngineUnavailable(NO_GPU)
        variant = VARIANTS[config.diffusion_variant]
        try:
            pipe, resolution = build_pipeline(variant, device, root=config.diffusion_path,
                                              fp16_cache=config.diffusion_fp16_cache)
        except OSError as e:  # huggingface_hub's network and cache errors are OSErrors
            raise EngineUnavailable(Message("engine.fetch_failed", error=type(e).__name__)) from e
        pipe.set_progress_bar_config(desc="diffusion")
        return cls(pipe, variant, resolution)

    def render(self, job: RenderJob, progress: Progress) -> Iterator[np.ndarray]:
        """Yield job.n_frames frames. Progress is reported in frames of the total work: denoising (every window
        pass at every step) counts for DENOISE_SHARE of it, decoding for the rest."""
        import torch

        size, n = self.resolution, job.n_frames
        portrait = _resize(job.portrait, size)
        mask = face_mask(job.face.box, size / job.portrait.shape[0], size)
        latents = self.pipe(
            portrait, mask, job.audio.vocals, n, fps=job.fps, num_inference_steps=self.variant.steps,
            guidance_scale=self.variant.guidance_scale, context_frames=CONTEXT_FRAMES, context_overlap=CONTEXT_OVERLAP,
            generator=torch.Generator("cpu").manual_seed(job.seed), output_type="latent",
            progress=lambda done, total: progress(int(n * DENOISE_SHARE * done / total), n))
        decoded = 0
        for images in self.pipe.decode_latents(latents, DECODE_CHUNK):
            for image in (images * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy():
                yield _resize(image, job.portrait.shape[0])
            decoded += len(images)
            progress(int(n * (DENOISE_SHARE + (1 - DENOISE_SHARE) * decoded / n)) if decoded < n else n, n)
