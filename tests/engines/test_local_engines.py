"""The optional local engines with tiny models built here: an ONNX "segmenter" for rembg and a
randomly initialised Stable Diffusion pipeline for diffusers. They skip when the `local-models`
extra (and torch) are not installed: they are optional, not a service CI must provide."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from generations.engines import registry
from generations.engines.base import (
    Capability,
    EngineNotConfigured,
    GenerationRequest,
    OperationRequest,
)
from generations.engines.local import DiffusersEngine, RembgEngine

from .conftest import Progress


@pytest.mark.django_db
def test_without_paths_both_are_unavailable_and_name_their_setting():
    assert not RembgEngine().is_configured() and not DiffusersEngine().is_configured()
    with pytest.raises(EngineNotConfigured, match="REMBG_MODEL_PATH"):
        registry.resolve("rembg", Capability.BACKGROUND_REMOVAL)
    with pytest.raises(EngineNotConfigured, match="DIFFUSERS_MODEL_DIR"):
        registry.resolve("diffusers:local")


# --- rembg ------------------------------------------------------------------------------------------


def brightness_model(path) -> None:
    """A one-node ONNX model: the mask is the mean of the normalised RGB channels, so bright
    pixels come out as foreground. Input and output shapes are those of U²-Net (320×320)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    node = helper.make_node("ReduceMean", ["input"], ["mask"], axes=[1], keepdims=1)
    graph = helper.make_graph(
        [node],
        "brightness",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 320, 320])],
        [helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, 320, 320])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


@pytest.mark.django_db
def test_rembg_removes_the_background_with_a_local_onnx_model(settings, tmp_path, monkeypatch):
    pytest.importorskip("rembg")
    pytest.importorskip("onnxruntime")
    model = tmp_path / "tiny-u2net.onnx"
    brightness_model(model)
    settings.REMBG_MODEL_PATH = str(model)
    spec, engine = registry.resolve_operation(Capability.BACKGROUND_REMOVAL)
    assert engine.name == "rembg" and spec.name == "rembg"
    source = Image.new("RGB", (64, 64), (0, 0, 0))
    source.paste((255, 255, 255), (16, 16, 48, 48))  # a white square: the "subject"
    buf = io.BytesIO()
    source.save(buf, "PNG")
    progress = Progress()
    [out] = engine.run_operation(
        OperationRequest(
            capability=Capability.BACKGROUND_REMOVAL,
            operation="remove-background",
            image=buf.getvalue(),
        ),
        progress,
    )
    cut = Image.open(io.BytesIO(out.data))
    assert out.content_type == "image/png" and cut.mode == "RGBA" and cut.size == (64, 64)
    alpha = cut.getchannel("A")
    assert alpha.getpixel((32, 32)) > 200  # the subject is kept
    assert alpha.getpixel((2, 2)) < 50  # the background is gone
    assert progress[-1][0] == 100


# --- diffusers --------------------------------------------------------------------------------------


def tiny_pipeline(path) -> None:
    """A randomly initialised, tiny Stable Diffusion pipeline saved like a downloaded one."""
    torch = pytest.importorskip("torch")
    diffusers = pytest.importorskip("diffusers")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    unet = diffusers.UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=8,
        norm_num_groups=2,
        attention_head_dim=2,
    )
    vae = diffusers.AutoencoderKL(
        block_out_channels=[4, 8],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        norm_num_groups=2,
    )
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for token in letters + [f"{c}</w>" for c in letters]:
        vocab[token] = len(vocab)
    (path / "tok").mkdir(parents=True)
    (path / "tok" / "vocab.json").write_text(json.dumps(vocab))
    (path / "tok" / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = transformers.CLIPTokenizer(
        str(path / "tok" / "vocab.json"), str(path / "tok" / "merges.txt"), model_max_length=77
    )
    text_encoder = transformers.CLIPTextModel(
        transformers.CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=8,
            intermediate_size=16,
            num_attention_heads=2,
            num_hidden_layers=1,
            vocab_size=len(vocab),
            projection_dim=8,
            max_position_embeddings=77,
        )
    )
    scheduler = diffusers.DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False
    )
    pipe = diffusers.StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(str(path / "pipeline"))


@pytest.mark.django_db
def test_diffusers_generates_from_a_local_pipeline_directory(settings, tmp_path, monkeypatch):
    tiny_pipeline(tmp_path)
    settings.DIFFUSERS_MODEL_DIR = str(tmp_path / "pipeline")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # any attempt to reach a hub would fail loudly
    _spec, engine = registry.resolve("diffusers:local")
    assert engine.name == "diffusers"
    progress = Progress()
    request = GenerationRequest(
        prompt="a red apple", width=32, height=32, count=2, seed=7, params={"steps": 3}
    )
    first = engine.generate(request, progress)
    again = engine.generate(request, Progress())
    assert [(i.width, i.height, i.content_type) for i in first] == [(32, 32, "image/png")] * 2
    assert [i.seed for i in first] == [7, 8]
    assert first[0].data == again[0].data  # the seed decides the pixels
    assert first[0].data != first[1].data
    stages = [s for _, s in progress]
    assert "denoising step 3/3" in stages and progress[-1][0] == 100
