# ruff: noqa
# dmgbuild settings for Kanin's macOS disk image (run by CI on macOS only):
#   dmgbuild -s packaging/macos/dmg_settings.py -D app=dist/Kanin.app Kanin dist/Kanin-<version>.dmg
# `defines` is given by dmgbuild from the -D options; the file is Python, read by dmgbuild.
import os.path

application = defines.get("app", "dist/Kanin.app")  # noqa: F821 - dmgbuild's namespace
appname = os.path.basename(application)

format = "UDZO"  # compressed, read-only
filesystem = "HFS+"
files = [application]
symlinks = {"Applications": "/Applications"}  # drag Kanin onto Applications to install
badge_icon = "resources/kanin.icns" if os.path.exists("resources/kanin.icns") else None
icon_locations = {appname: (140, 120), "Applications": (500, 120)}
window_rect = ((100, 100), (640, 300))
default_view = "icon-view"
show_status_bar = False
show_tab_view = False
show_toolbar = False
show_pathbar = False
show_sidebar = False
icon_size = 128
