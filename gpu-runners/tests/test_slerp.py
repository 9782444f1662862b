"""slerp and t_for_tensor: the merge math, on hand-made tensors; and the numpy slerp against the
torch implementation it replaced (the tests may import torch, the merge runner does not)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hala_runners.safetensors_shards import bf16_to_f32, encode
from hala_runners.slerp import _BLOCK, _combine, layer_index, lerp, slerp, t_for_tensor
from torch_slerp_reference import agrees_with_torch, as_numpy, storage_bytes, torch_slerp


def _pair(seed=0, shape=(8, 16)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape, np.float32), rng.standard_normal(shape, np.float32)


def test_t0_gives_the_base_and_t1_the_tuned_tensor():
    v0, v1 = _pair()
    assert np.allclose(slerp(v0, v1, 0.0)[0], v0, atol=1e-6)
    assert np.allclose(slerp(v0, v1, 1.0)[0], v1, atol=1e-6)
    assert slerp(v0, v1, 0.5)[1] is False  # random vectors are far from colinear


def test_colinear_tensors_fall_back_to_linear_interpolation():
    v0 = _pair(1, (4, 32))[0]
    for v1 in (3.0 * v0, -2.0 * v0, v0 + np.float32(1e-5)):  # same and opposite directions, and a tiny fine-tune
        merged, linear = slerp(v0, v1, 0.3)
        assert linear
        assert np.allclose(merged, lerp(v0, v1, 0.3), atol=1e-6)


def test_threshold_decides_the_fallback():
    v0, v1 = _pair(2)
    cos = float(np.dot(v0.ravel(), v1.ravel()) / (np.linalg.norm(v0) * np.linalg.norm(v1)))
    assert slerp(v0, v1, 0.5, colinear_threshold=abs(cos) - 1e-3)[1] is True
    assert slerp(v0, v1, 0.5, colinear_threshold=abs(cos) + 1e-3)[1] is False


def test_orthogonal_unit_vectors_stay_on_the_unit_circle_where_lerp_shrinks():
    v0, v1 = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    for t in (0.1, 0.25, 0.5, 0.9):
        merged, linear = slerp(v0, v1, t)
        assert not linear
        assert float(np.linalg.norm(merged)) == pytest.approx(1.0, abs=1e-6)
        assert merged.tolist() == pytest.approx([math.cos(t * math.pi / 2), math.sin(t * math.pi / 2)], abs=1e-6)
    assert float(np.linalg.norm(lerp(v0, v1, 0.5))) == pytest.approx(math.sqrt(0.5))


def test_whole_tensor_is_one_vector_and_magnitudes_are_kept():
    # Orthogonal directions with norms 2 and 4: the sin weights apply to the original tensors.
    v0 = np.array([[2.0, 0.0], [0.0, 0.0]], np.float32)
    v1 = np.array([[0.0, 0.0], [0.0, 4.0]], np.float32)
    merged, _ = slerp(v0, v1, 0.5)
    w = math.sin(math.pi / 4)  # sin(theta/2) / sin(theta) at theta = pi/2
    assert merged.shape == (2, 2)
    assert merged.flatten().tolist() == pytest.approx([2.0 * w, 0.0, 0.0, 4.0 * w], abs=1e-6)


def test_zero_tensor_has_no_direction_so_lerp_is_used():
    merged, linear = slerp(np.zeros(5, np.float32), np.ones(5, np.float32), 0.25)
    assert linear and merged.tolist() == pytest.approx([0.25] * 5)


def test_any_float_width_gives_float32_and_overwrite_only_takes_float32_memory():
    v0, v1 = _pair(3)
    for dtype in (np.float16, np.float64):
        kept = v0.astype(dtype)
        merged, _ = slerp(kept, v1.astype(dtype), 0.5, overwrite_v0=True)
        assert merged.dtype == np.float32 and np.array_equal(kept, v0.astype(dtype))  # a copy was merged into
    own = v0.copy()
    merged, _ = slerp(own, v1, 0.5, overwrite_v0=True)
    assert np.shares_memory(merged, own)
    merged, _ = slerp(v0, v1, 0.5)
    assert not np.shares_memory(merged, v0)


def test_shape_mismatch_and_t_out_of_range_are_refused():
    v0, v1 = _pair(3)
    with pytest.raises(ValueError, match="equal shapes"):
        slerp(np.zeros(3, np.float32), np.zeros(4, np.float32), 0.5)
    with pytest.raises(ValueError, match=r"t must be in \[0, 1\]"):
        slerp(v0, v1, 1.5)


def test_scalar_t_applies_to_every_tensor():
    for name in ("model.embed_tokens.weight", "model.layers.3.conv.in_proj.weight", "model.embedding_norm.weight"):
        assert t_for_tensor(name, 0.5, num_layers=4) == 0.5


def test_anchor_list_is_interpolated_across_depth():
    anchors = [0.0, 1.0]
    got = [t_for_tensor(f"model.layers.{i}.self_attn.q_proj.weight", anchors, 5) for i in range(5)]
    assert got == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    # Three anchors over 5 layers: 0 at the bottom, 1 in the middle, 0 at the top.
    got = [t_for_tensor(f"model.layers.{i}.mlp.w1.weight", [0.0, 1.0, 0.0], 5) for i in range(5)]
    assert got == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0])
    assert t_for_tensor("model.layers.0.x", [0.3], 4) == 0.3
    assert t_for_tensor("model.layers.0.x", [0.2, 0.8], 1) == 0.2  # a one-layer model sits at the bottom


def test_tensors_outside_the_layers_take_the_anchor_of_the_end_they_feed():
    anchors = [0.1, 0.5, 0.9]
    assert t_for_tensor("model.embed_tokens.weight", anchors, 4) == 0.1
    assert t_for_tensor("model.embedding_norm.weight", anchors, 4) == 0.9  # LFM2's final norm
    assert t_for_tensor("model.norm.weight", anchors, 4) == 0.9
    assert t_for_tensor("lm_head.weight", anchors, 4) == 0.9


def test_layer_index_and_out_of_range_layers():
    assert layer_index("model.layers.12.operator_norm.weight") == 12
    assert layer_index("transformer.h.3.attn.c_attn.weight") == 3
    assert layer_index("model.embed_tokens.weight") is None
    with pytest.raises(ValueError, match="outside a model of 4 layers"):
        t_for_tensor("model.layers.7.x", [0.0, 1.0], 4)


def test_a_large_tensor_merges_as_float64_math_does():
    # float32 reductions over millions of weights lose digits (torch's norm of 8M is off by ~1e-3):
    # the angle must come from products accumulated in float64.
    rng = np.random.default_rng(0)
    v0 = rng.standard_normal(8_000_000, np.float32) * np.float32(0.02)
    v1 = v0 + np.float32(0.01) * rng.standard_normal(v0.shape, np.float32)
    a, b = v0.astype(np.float64), v1.astype(np.float64)
    theta = math.acos(float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))))
    expected = (math.sin(0.5 * theta) * a + math.sin(0.5 * theta) * b) / math.sin(theta)
    merged, linear = slerp(v0, v1, 0.5)
    assert not linear
    assert np.abs(merged - expected).max() < 1e-7  # float32 rounding; float32 norms: ~1e-5


# The torch implementation this one replaced: the same weights to one step of the storage dtype.
DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def _torch_pair(dtype, n, seed, moved=0.01):
    g = torch.Generator().manual_seed(seed)
    v0 = torch.randn(n, generator=g) * 0.02
    return v0.to(dtype), (v0 + moved * torch.randn(n, generator=g)).to(dtype)


@pytest.mark.parametrize("st_dtype", DTYPES)
def test_numpy_slerp_stores_the_torch_implementations_weights_to_one_step(st_dtype):
    """Both round the same arithmetic, differently: torch rounded w0 * v0 to float32 before adding
    and took MKL's dots; this rounds the float64 sum once and takes OpenBLAS's. A stored weight may
    move by one step, never more."""
    dtype = DTYPES[st_dtype]
    cases = [(n, seed, moved) for seed, n in enumerate((1, 7, 100, 1000, 3 * _BLOCK + 5)) for moved in (0.01, 1e-6)]
    for n, seed, moved in cases:
        v0, v1 = _torch_pair(dtype, n, seed, moved)
        for t in (0.0, 0.3, 0.5, 1.0):
            expected, expected_linear = torch_slerp(v0, v1, t)
            merged, linear = slerp(as_numpy(v0), as_numpy(v1), t)
            assert linear == expected_linear
            ours = torch.frombuffer(bytearray(encode(merged, st_dtype).tobytes()), dtype=dtype).reshape(expected.shape)
            assert agrees_with_torch(ours, expected.to(dtype), v0, v1), (n, moved, t)
            if t in (0.0, 1.0):  # an end of the arc is the end's own tensor, bit for bit
                assert encode(merged, st_dtype).tobytes() == storage_bytes(expected), (n, moved, t)


def test_combine_rounds_the_sum_once_from_float64():
    # (1 + 2^-23) + 2^-24 (1 + 2^-13) (1 - 2^-13) = 1 + 2^-23 + 2^-24 - 2^-50: just below the float32
    # halfway point, so it rounds down to 1 + 2^-23. Rounding the product to float32 first (2^-24)
    # lands on the halfway point, which rounds to even: 1 + 2^-22.
    a = np.array([1.0 + 2.0 ** -23], np.float32)
    b = np.array([2.0 ** -24 * (1.0 + 2.0 ** -13)], np.float32)
    w1 = 1.0 - 2.0 ** -13
    assert np.float32(a[0] + np.float32(b[0] * np.float32(w1))) == np.float32(1.0 + 2.0 ** -22)  # float32 throughout
    got = _combine(a, b, 1.0, w1, np.empty_like(a))
    assert got[0] == np.float32(1.0 + 2.0 ** -23)


def test_bf16_and_f16_rounding_is_torchs_and_nan_stays_nan():
    rng = np.random.default_rng(0)
    bits = np.concatenate([rng.integers(0, 2 ** 32, 200_000, dtype=np.uint64).astype(np.uint32),
                           np.array([0x3F808000, 0x3F818000, 0x7F7FFFFF, 0x7F800000, 0xFF800000, 0x00000001,
                                     0x80008000, 0x7FC00001, 0xFFFFFFFF], np.uint32)])  # ties, max, inf, subnormals, NaNs
    x = bits.view(np.float32)
    finite = ~np.isnan(x)
    for st_dtype in ("BF16", "F16"):
        ours = np.frombuffer(encode(x, st_dtype).tobytes(), np.uint16)
        theirs = np.frombuffer(storage_bytes(torch.from_numpy(x).to(DTYPES[st_dtype])), np.uint16)
        assert np.array_equal(ours[finite], theirs[finite]), st_dtype
        assert np.all((ours[~finite] & 0x7FFF) > 0x7C00 if st_dtype == "F16" else (ours[~finite] & 0x7FFF) > 0x7F80)
    bf16 = encode(x[finite], "BF16")
    assert np.array_equal(bf16_to_f32(bf16).view(np.uint32), bf16.astype(np.uint32) << 16)  # widening is exact
