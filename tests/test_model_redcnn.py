"""RED-CNN shape, receptive field and shortcut wiring."""

import torch

from ldct_viewer.model import REDCNN


def test_output_shape_equals_input_shape():
    model = REDCNN(width=8).eval()
    for h, w in [(64, 64), (41, 57), (100, 73)]:
        with torch.no_grad():
            out = model(torch.rand(2, 1, h, w))
        assert out.shape == (2, 1, h, w)


def test_default_is_paper_configuration():
    model = REDCNN()
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    deconvs = [m for m in model.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(convs) == 5 and len(deconvs) == 5
    for layer in convs + deconvs:
        assert layer.kernel_size == (5, 5) and layer.stride == (1, 1) and layer.padding == (0, 0)
    assert convs[0].in_channels == 1 and deconvs[-1].out_channels == 1
    assert all(c.out_channels == 96 for c in convs)
    assert model.halo == 20


def test_receptive_field_is_41_pixels():
    torch.manual_seed(0)
    model = REDCNN(width=8).double().eval()
    with torch.no_grad():
        for layer in model.modules():  # positive weights: every path carries the impulse
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                layer.weight.uniform_(0.01, 0.1)
                layer.bias.fill_(0.01)
        base = torch.full((1, 1, 101, 101), 0.5, dtype=torch.float64)
        impulse = base.clone()
        impulse[0, 0, 50, 50] += 1.0
        changed = (model(impulse) - model(base)).abs()[0, 0] > 0
    rows, cols = torch.nonzero(changed, as_tuple=True)
    assert rows.min() == 30 and rows.max() == 70
    assert cols.min() == 30 and cols.max() == 70


def test_zero_weights_leave_relu_of_input():
    model = REDCNN(width=8).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        x = torch.randn(1, 1, 48, 48)
        assert torch.equal(model(x), torch.relu(x))


def _silence(layer):
    """Make a layer output zeros after its ReLU, cutting the path through it."""
    layer.weight.zero_()
    layer.bias.fill_(-1.0)


def test_conv4_shortcut_reaches_decoder():
    torch.manual_seed(1)
    model = REDCNN(width=4).eval()
    x = torch.rand(1, 1, 40, 40)
    with torch.no_grad():
        _silence(model.conv5)  # the only remaining path from conv4 is the shortcut
        with_shortcut = model(x)
        model.conv4.bias.fill_(-1e6)  # conv4's activations (and the shortcut) become zero
        without = model(x)
    assert not torch.allclose(with_shortcut, without)


def test_conv2_shortcut_reaches_decoder():
    torch.manual_seed(2)
    model = REDCNN(width=4).eval()
    x = torch.rand(1, 1, 40, 40)
    with torch.no_grad():
        _silence(model.conv3)  # conv2 now reaches the output only through its shortcut
        with_shortcut = model(x)
        model.conv2.bias.fill_(-1e6)
        without = model(x)
    assert not torch.allclose(with_shortcut, without)


def test_start_as_identity_returns_the_input_and_still_learns():
    torch.manual_seed(0)
    model = REDCNN(width=8)
    model.start_as_identity()
    x = torch.rand(2, 1, 48, 48)
    assert torch.equal(model(x), x)  # non-negative input: relu(0 + x) = x
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):  # step 1 moves only deconv5; step 2 reaches every layer through it
        opt.zero_grad()
        (model(x) - 0.5 * x).pow(2).mean().backward()
        opt.step()
    assert model.conv1.weight.grad.abs().sum() > 0
    assert not torch.equal(model(x), x)


def test_center_biases_wakes_the_units_positive_ct_input_leaves_dead():
    torch.manual_seed(0)
    model = REDCNN(width=16)
    # normalized CT is all positive (air at 0.256): a structured, positive calibration batch
    x = 0.3 + 0.2 * torch.rand(8, 1, 48, 48)

    def dead_share(layer_out):
        return float((layer_out.amax(dim=(0, 2, 3)) == 0).float().mean())

    with torch.no_grad():
        dead_before = dead_share(torch.relu(model.conv1(x)))
        model.center_biases(x)
        pre = model.conv1(x)
        out = model(x)
    assert dead_before > 0.1  # PyTorch's init: every filter summing below 0 is off on all inputs
    assert torch.allclose(pre.mean(dim=(0, 2, 3)), torch.zeros(16), atol=1e-5)
    assert dead_share(torch.relu(pre)) == 0.0
    # the untrained network returns its input plus a zero-mean correction (not an offset image)
    assert abs(float((out - x).mean())) < 0.01 * float(x.mean())
    assert not torch.equal(out, x)
