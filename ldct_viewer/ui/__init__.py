"""The Qt viewer. Everything Qt lives under this package; the rest of ldct_viewer never imports it.

pyqtgraph is configured once here: images are row-major ``[H, W]`` numpy arrays (as everywhere
else in the project), and no OpenGL is needed.
"""

import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
