#!/usr/bin/python3
"""Where meson installs the privd package: print the directory.

    install_dir.py MESON_DIR PREFIX

MESON_DIR is meson's choice (python installation's get_install_dir()). It
is kept when this python looks there. Otherwise the first directory this
python looks in under PREFIX/lib/ that ends in -packages is taken: Debian's
meson picks PREFIX/lib/python3/dist-packages, right for prefix /usr, but for
/usr/local Debian's python3 looks in /usr/local/lib/python3.X/dist-packages.
With neither, MESON_DIR (then the package needs PYTHONPATH).
"""

import os
import sys


def main(meson_dir, prefix):
    d = os.path.normpath(meson_dir)
    path = [os.path.normpath(x) for x in sys.path if x]
    if d in path:
        return d
    under = os.path.join(os.path.normpath(prefix), "lib", "")
    for x in path:
        if x.startswith(under) and x.endswith("-packages"):
            return x
    return d


if __name__ == "__main__":
    print(main(*sys.argv[1:3]))
