#!/usr/bin/env bash
# ROS 2 Jazzy for building and testing the node on a machine without a ROS 2 install
# (../shared/design/facts.md, "ROS 2 on machines without a ROS 2 install"):
#   1. libclang for r2r's bindgen (Debian libclang-dev, when missing),
#   2. a venv third_party/ros/venv with the pinned ros-jazzy-* wheels (scripts/ros/requirements.txt),
#   3. vision_msgs, hri_msgs and tf2_msgs generated with colcon from interfaces/ (when the ROS installation
#      lacks them),
#   4. the three workarounds: a librmw_implementation.so link for r2r's linker line, stand-in
#      *__rosidl_generator_py libraries for Rust processes, and the wheels' CMake exports rewritten
#      to this venv's Python and numpy headers,
#   5. cargo-ament-build (crates.io, pinned) for colcon workspace builds of the package,
#   6. one env file, third_party/ros/env.sh, sourced to build and to run.
# Idempotent: each step is skipped when its inputs have not changed. On a robot with a system
# ROS 2, do not run this: source /opt/ros/<distro>/setup.bash instead (README, "ROS 2 node").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ros="$root/third_party/ros"
venv="$ros/venv"
req="$root/scripts/ros/requirements.txt"
cons="$root/scripts/ros/constraints.txt"
mkdir -p "$ros"
say() { echo "setup_ros_env: $*"; }

# 1. libclang (bindgen loads libclang.so at build time).
if ! compgen -G "/usr/lib/llvm-*/lib/libclang.so" > /dev/null && [ -z "${LIBCLANG_PATH:-}" ]; then
  say "installing libclang-dev (Debian) for bindgen"
  if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  "${apt_get[@]}" install -y -q libclang-dev > "$ros/apt.log" 2>&1 \
    || { "${apt_get[@]}" update -q > /dev/null 2>&1 && "${apt_get[@]}" install -y -q libclang-dev > "$ros/apt.log" 2>&1; } \
    || { echo "setup_ros_env: cannot install libclang-dev (see $ros/apt.log); set LIBCLANG_PATH to a libclang.so" >&2; exit 1; }
fi

# 2. The pinned wheels.
pins=$(cat "$req" "$cons" | sha256sum)
if [ "$(cat "$venv/.pins-ok" 2> /dev/null)" != "$pins" ]; then
  say "installing ROS 2 Jazzy wheels into $venv (~20 s)"
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" -c "$cons"
  echo "$pins" > "$venv/.pins-ok"
fi
pyver=$("$venv/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
site="$venv/lib/python$pyver/site-packages"

# 4a. The wheels' exported CMake files name the build machine's Python and numpy headers.
py_inc=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_inc=$("$venv/bin/python" -c 'import numpy; print(numpy.get_include())')
{ grep -rlZ --include='*__rosidl_generator_pyExport.cmake' '/opt/python/' "$venv/share" 2> /dev/null || true; } \
  | xargs -0 -r sed -i -E \
    -e "s#/opt/python/[^/]+/include/python[0-9.]+#$py_inc#g" \
    -e "s#/opt/python/[^\";]+/numpy/_core/include#$np_inc#g"

# 4b. r2r links -lrmw_implementation; the wheels ship the Fast DDS rmw under its own name.
mkdir -p "$ros/link/lib"
ln -sfn "$venv/lib/librmw_fastrtps_cpp.so" "$ros/link/lib/librmw_implementation.so"

# 3. Interface packages the ROS installation lacks, generated from interfaces/.
base_prefixes="$venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
missing=()
for pkg in vision_msgs hri_msgs tf2_msgs; do
  found=""
  IFS=: read -r -a prefixes <<< "$base_prefixes"
  for p in "${prefixes[@]}"; do
    [ -f "$p/share/ament_index/resource_index/packages/$pkg" ] && [ "$p" != "$ros/interfaces/install/$pkg" ] && found=1
  done
  [ -z "$found" ] && missing+=("$pkg")
done
iface_stamp="$ros/interfaces/.inputs"
iface_inputs=$( (grep '^ros-' "$cons"; cd "$root/interfaces" && find . -type f | sort | xargs cat) | sha256sum)
if [ ${#missing[@]} -gt 0 ] && [ "$(cat "$iface_stamp" 2> /dev/null)" != "$iface_inputs" ]; then
  say "generating ${missing[*]} from interfaces/ with colcon (~90 s)"
  rm -rf "$ros/interfaces"
  mkdir -p "$ros/interfaces"
  (
    cd "$ros/interfaces"
    export PATH="$venv/bin:$PATH" AMENT_PREFIX_PATH="$base_prefixes" CMAKE_PREFIX_PATH="$venv"
    export PYTHONPATH="$site" ROS_DISTRO=jazzy
    "$venv/bin/colcon" --log-base log build --base-paths "$root/interfaces" \
      --packages-select "${missing[@]}" --build-base build --install-base install \
      --cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$venv/bin/python" \
      > "$ros/interfaces/colcon.log" 2>&1 \
      || { echo "setup_ros_env: colcon failed to generate ${missing[*]}; see $ros/interfaces/colcon.log" >&2; exit 1; }
  )
  echo "$iface_inputs" > "$iface_stamp"
fi
iface_prefixes=""
iface_libs=""
iface_py=""
for pkg in "${missing[@]}"; do
  p="$ros/interfaces/install/$pkg"
  iface_prefixes="$iface_prefixes:$p"
  iface_libs="$iface_libs:$p/lib"
  iface_py="$iface_py:$p/lib/python$pyver/site-packages"
done

# 4c. librcl lists the Python message libraries as needed without using them; in a Rust process
# they fail to load (no libpython), so Rust processes see empty stand-ins of the same names first.
shims="$ros/rust_shims"
mkdir -p "$shims"
shim_names=$(cd "$venv/lib" && ls ./*__rosidl_generator_py.so; for d in ${iface_libs//:/ }; do (cd "$d" && ls ./*__rosidl_generator_py.so); done)
if [ "$(echo "$shim_names" | sha256sum)" != "$(cat "$shims/.names" 2> /dev/null)" ]; then
  echo "" > "$shims/empty.c"
  for name in $shim_names; do
    gcc -shared -o "$shims/$(basename "$name")" "$shims/empty.c"
  done
  echo "$shim_names" | sha256sum > "$shims/.names"
fi

# 5. cargo-ament-build, which colcon-ros-cargo calls to build and install ament_cargo packages.
ament_build_version=0.1.11
if ! "$ros/cargo/bin/cargo-ament-build" --help > /dev/null 2>&1 \
  || [ "$(cat "$ros/cargo/.version" 2> /dev/null)" != "$ament_build_version" ]; then
  say "installing cargo-ament-build $ament_build_version (~1 min)"
  cargo install --quiet --locked --root "$ros/cargo" cargo-ament-build --version "=$ament_build_version"
  echo "$ament_build_version" > "$ros/cargo/.version"
fi

# 6. The env file.
wheel_libs=$(find "$site" -maxdepth 1 -type d -name 'ros_*.libs' | sort | tr '\n' ':')
filter="std_msgs;sensor_msgs;diagnostic_msgs;geometry_msgs;builtin_interfaces;rcl_interfaces;lifecycle_msgs;service_msgs;type_description_interfaces;unique_identifier_msgs;action_msgs;rosgraph_msgs;vision_msgs;hri_msgs;tf2_msgs"
cat > "$ros/env.sh" << EOF
# Generated by scripts/setup_ros_env.sh: ROS 2 Jazzy from pip wheels. Source it to build or run
# the node (cargo build --features ros). Rust processes need the stand-in libraries first on
# their library path (LD_LIBRARY_PATH here); Python processes must not see them
# (MASKED_FER_PY_LD_LIBRARY_PATH).
export ROS_DISTRO=jazzy
export ROS_VERSION=2
export ROS_PYTHON_VERSION=3
export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
export AMENT_PREFIX_PATH="$venv$iface_prefixes"
export CMAKE_PREFIX_PATH="$ros/link:$venv$iface_prefixes"
export IDL_PACKAGE_FILTER="$filter"
export MASKED_FER_ROS_VENV="$venv"
export MASKED_FER_PY_LD_LIBRARY_PATH="$venv/lib${iface_libs}:${wheel_libs%:}"
export MASKED_FER_NODE_LD_LIBRARY_PATH="$shims:\$MASKED_FER_PY_LD_LIBRARY_PATH"
export LD_LIBRARY_PATH="\$MASKED_FER_NODE_LD_LIBRARY_PATH"
export PYTHONPATH="$site${iface_py}"
export PATH="$venv/bin:$ros/cargo/bin:\$PATH"
export ROS_LOG_DIR="\${ROS_LOG_DIR:-$ros/log}"
# Fast DDS transports: large shared-memory segments between Fast DDS processes (best-effort
# 640x480 frames arrive whole, facts.md) and UDPv4 for other hosts and DDS vendors.
export FASTRTPS_DEFAULT_PROFILES_FILE="\${FASTRTPS_DEFAULT_PROFILES_FILE:-$root/params/fastdds_profile.xml}"
EOF
say "ready: source $ros/env.sh"
