"""The official AudioLDM 2 checkpoints LOA Studio knows by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from core.generation.defaults import SOUND, SPEECH

LICENCE_CC_BY_NC_SA = "CC-BY-NC-SA-4.0"


@dataclass(frozen=True)
class ModelInfo:
    id: str
    task: str  # "sound", "music" or "speech": the studio mode it serves
    title: str
    parameters: int
    download_bytes: int
    licence: str
    default_seconds: float
    default_steps: int
    default_guidance: float
    sample_rate: int = 16_000  # the rate its takes are made at (the picker shows it)
    hub_repo: Optional[str] = None  # for a model shipped as one original-format file: the hub repo holding it
    hub_file: Optional[str] = None  # ... and that file (converted once into the store, core.models.imported)
    size_estimated: bool = False  # download_bytes is estimated from the architecture, not read from the hub

    @property
    def is_original_format(self) -> bool:
        return self.hub_file is not None

    @property
    def rate_text(self) -> str:
        return f"{self.sample_rate / 1000:g} kHz"

    @property
    def is_speech(self) -> bool:
        return self.task == "speech"


def _numbers(defaults) -> tuple:
    return defaults.seconds, defaults.steps, defaults.guidance


CATALOG: dict[str, ModelInfo] = {m.id: m for m in [
    ModelInfo("cvssp/audioldm2", "sound", "AudioLDM 2 (sound effects and general audio)",
              1_118_354_316, 4_474_362_800, LICENCE_CC_BY_NC_SA, *_numbers(SOUND)),
    ModelInfo("cvssp/audioldm2-large", "sound", "AudioLDM 2 Large (higher quality, slower)",
              1_489_423_116, 5_958_866_688, LICENCE_CC_BY_NC_SA, *_numbers(SOUND)),
    ModelInfo("cvssp/audioldm2-music", "music", "AudioLDM 2 Music (text-to-music)",
              1_118_354_316, 4_474_362_800, LICENCE_CC_BY_NC_SA, *_numbers(SOUND)),
    ModelInfo("anhnct/audioldm2_gigaspeech", "speech", "AudioLDM 2 GigaSpeech (many voices, text-to-speech)",
              730_000_000, 2_900_000_000, LICENCE_CC_BY_NC_SA, *_numbers(SPEECH)),
    ModelInfo("anhnct/audioldm2_ljspeech", "speech", "AudioLDM 2 LJSpeech (one voice, text-to-speech)",
              730_000_000, 2_900_000_000, LICENCE_CC_BY_NC_SA, *_numbers(SPEECH)),
    # The AudioLDM 2 repository's high-fidelity model, published only as the training code's .pth. Parameters: what
    # LOA converts (UNet 263 M, VAE 224 M, HiFi-GAN 190 M, CLAP text 125 M, counted from the architecture); the
    # file also holds the EMA copy of the UNet and two CLAP models, so its size (~5 GB) is an estimate. Licence: the
    # repository's (CC BY-NC-SA 4.0), as published by the authors; its configuration guides at 3.5, as SOUND does.
    ModelInfo("audioldm_48k", "sound", "AudioLDM 48 kHz (high-fidelity sound effects and music)",
              802_000_000, 5_000_000_000, LICENCE_CC_BY_NC_SA, *_numbers(SOUND),
              sample_rate=48_000, hub_repo="haoheliu/audioldm_48k", hub_file="audioldm_48k.pth",
              size_estimated=True),
]}

DEFAULT_MODEL = "cvssp/audioldm2"
DEFAULT_MODEL_BY_TASK = {"sound": "cvssp/audioldm2", "music": "cvssp/audioldm2-music",
                         "speech": "anhnct/audioldm2_gigaspeech"}


def describe_size(n_bytes: int) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.0f} MB"


def describe_download(info: ModelInfo) -> str:
    return ("~" if info.size_estimated else "") + describe_size(info.download_bytes)
