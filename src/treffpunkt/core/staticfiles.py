"""Static files in production: whitenoise's compressed files with hashed names, and the pages'
ES modules pointing at each other's hashed names.

The pages load their scripts as ES modules without a build step (``import … from "./x.js"``).
Django's manifest storage rewrites such relative imports to the hashed names only when
``support_js_module_import_aggregation`` is on; without it a hashed ``call.<hash>.js`` would
import the unhashed ``socket.js``, which browsers may keep from an earlier release.
"""

from __future__ import annotations

# whitenoise ships no type information.
from whitenoise.storage import CompressedManifestStaticFilesStorage


class ModuleStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
