"""Import the libraries real models use, from the worker's environment, and do a little work."""

import json
import os
from pathlib import Path

import monai
import numpy
import SimpleITK
import torch

image = SimpleITK.GetImageFromArray(numpy.zeros((4, 4, 4), dtype=numpy.float32))
total = float(torch.ones(3).sum())
versions = {"numpy": numpy.__version__, "torch": torch.__version__, "monai": monai.__version__}
result = {"versions": versions, "voxels": image.GetNumberOfPixels(), "sum": total}
(Path(os.environ["HUIYAN_OUTPUT"]) / "stack.json").write_text(json.dumps(result))
