"""slerp and t_for_tensor: the merge math, on hand-made tensors."""
from __future__ import annotations

import math

import pytest
import torch

from hala_runners.slerp import layer_index, lerp, slerp, t_for_tensor


def _pair(seed=0, shape=(8, 16)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g), torch.randn(shape, generator=g)


def test_t0_gives_the_base_and_t1_the_tuned_tensor():
    v0, v1 = _pair()
    assert torch.allclose(slerp(v0, v1, 0.0)[0], v0, atol=1e-6)
    assert torch.allclose(slerp(v0, v1, 1.0)[0], v1, atol=1e-6)
    assert slerp(v0, v1, 0.5)[1] is False  # random vectors are far from colinear


def test_colinear_tensors_fall_back_to_linear_interpolation():
    v0 = torch.randn(4, 32, generator=torch.Generator().manual_seed(1))
    for v1 in (3.0 * v0, -2.0 * v0, v0 + 1e-5):  # same and opposite directions, and a tiny fine-tune
        merged, linear = slerp(v0, v1, 0.3)
        assert linear
        assert torch.allclose(merged, lerp(v0, v1, 0.3), atol=1e-6)


def test_threshold_decides_the_fallback():
    v0, v1 = _pair(2)
    cos = float(torch.nn.functional.cosine_similarity(v0.flatten(), v1.flatten(), dim=0))
    assert slerp(v0, v1, 0.5, colinear_threshold=abs(cos) - 1e-3)[1] is True
    assert slerp(v0, v1, 0.5, colinear_threshold=abs(cos) + 1e-3)[1] is False


def test_orthogonal_unit_vectors_stay_on_the_unit_circle_where_lerp_shrinks():
    v0, v1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    for t in (0.1, 0.25, 0.5, 0.9):
        merged, linear = slerp(v0, v1, t)
        assert not linear
        assert merged.norm().item() == pytest.approx(1.0, abs=1e-6)
        assert merged.tolist() == pytest.approx([math.cos(t * math.pi / 2), math.sin(t * math.pi / 2)], abs=1e-6)
    assert lerp(v0, v1, 0.5).norm().item() == pytest.approx(math.sqrt(0.5))


def test_whole_tensor_is_one_vector_and_magnitudes_are_kept():
    # Orthogonal directions with norms 2 and 4: the sin weights apply to the original tensors.
    v0 = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    v1 = torch.tensor([[0.0, 0.0], [0.0, 4.0]])
    merged, _ = slerp(v0, v1, 0.5)
    w = math.sin(math.pi / 4)  # sin(theta/2) / sin(theta) at theta = pi/2
    assert merged.shape == (2, 2)
    assert merged.flatten().tolist() == pytest.approx([2.0 * w, 0.0, 0.0, 4.0 * w], abs=1e-6)


def test_zero_tensor_has_no_direction_so_lerp_is_used():
    merged, linear = slerp(torch.zeros(5), torch.ones(5), 0.25)
    assert linear and merged.tolist() == pytest.approx([0.25] * 5)


def test_bfloat16_inputs_give_bfloat16_and_shape_mismatch_is_refused():
    v0, v1 = _pair(3)
    merged, _ = slerp(v0.bfloat16(), v1.bfloat16(), 0.5)
    assert merged.dtype == torch.bfloat16
    with pytest.raises(ValueError, match="equal shapes"):
        slerp(torch.zeros(3), torch.zeros(4), 0.5)
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
    g = torch.Generator().manual_seed(0)
    v0 = torch.randn(8_000_000, generator=g) * 0.02
    v1 = v0 + 0.01 * torch.randn(v0.shape, generator=g)
    a, b = v0.double(), v1.double()
    theta = math.acos(float(torch.dot(a, b) / (a.norm() * b.norm())))
    expected = (math.sin(0.5 * theta) * a + math.sin(0.5 * theta) * b) / math.sin(theta)
    merged, linear = slerp(v0, v1, 0.5)
    assert not linear
    assert (merged.double() - expected).abs().max().item() < 1e-7  # float32 rounding; float32 norms: ~1e-5
