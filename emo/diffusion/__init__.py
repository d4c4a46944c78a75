"""The EMO-style diffusion engine: our implementation of EchoMimic v1 on diffusers building blocks.

The portrait is read once by the ReferenceNet (reference_net.py); a 3D denoising U-Net (denoising_unet.py: SD1.5
spatial blocks with whisper-tiny audio tokens in the cross-attention, AnimateDiff motion modules from
motion_module.py) denoises overlapping windows of frames whose self-attention also sees those reference tokens,
guided by the face-box mask through the face locator (face_locator.py); audio_encoder.py makes the audio tokens;
pipeline.py runs DDIM and the VAE; weights.py fetches and loads the checkpoints.

Import the submodules directly: they pull in torch, diffusers and transformers, which the CPU app never needs
(weights.py alone stays light until it builds something).
"""
