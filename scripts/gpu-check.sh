#!/usr/bin/env bash
# The one-shot GPU check (notes/cuda.md). Two halves:
#
#   scripts/gpu-check.sh pack [--out DIR] [--part-size SIZE] [--level N]
#       On a machine with the .NET SDK (no GPU needed): publishes samples/SimpleTraining and samples/Benchmarks
#       self-contained for linux-x64 with ONNX Runtime's GPU native package, packs the folder into a zstd tar and
#       ONNX Runtime's CUDA provider library into a second zstd stream, both split into parts of SIZE (default 56M,
#       under the device tool's 64 MiB per call), and prints the sizes. DIR defaults to out/gpu-check (git ignores it).
#
#   scripts/gpu-check.sh run [--dir DIR] [--device cuda|cpu]
#       On the GPU machine (no .NET needed): joins and unpacks the parts (without CUDA provider parts it links the
#       library of Python's onnxruntime-gpu 1.31, when the machine has it), puts the CUDA and cuDNN libraries of the
#       machine's Python packages (site-packages/nvidia/*/lib) on LD_LIBRARY_PATH, then runs, each under a time
#       limit and all within ten minutes: the seed sample with --device cuda, the CPU-vs-CUDA parity check (50
#       steps, losses within 1e-5 relative with TF32 off, random bits identical), the width sweep on the CPU
#       and on CUDA without and with CUDA graphs, and the parity check again with CUDA graphs. Every result is a
#       RESULT line; each check ends with "RESULT check=NAME rc=N seconds=S". --device cpu runs the same checks on the CPU (to test the script).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd="${1:-}"
shift || true

pack() {
    local out="$root/out/gpu-check" part=56M level=12
    while [ $# -gt 0 ]; do
        case "$1" in
            --out) out="$2"; shift 2 ;;
            --part-size) part="$2"; shift 2 ;;
            --level) level="$2"; shift 2 ;;
            *) echo "pack: unknown option $1" >&2; return 2 ;;
        esac
    done
    local app="$out/app"
    rm -rf "$app" "$out/parts" "$out/provider" "$out/logs"
    mkdir -p "$app" "$out/parts"
    for project in samples/SimpleTraining samples/Benchmarks; do
        echo "# publishing $project (linux-x64, self-contained, GPU native package)"
        dotnet publish "$root/$project" -c Release -r linux-x64 --self-contained true \
            -p:NnxGpu=true -p:NnxGpuPackage=Microsoft.ML.OnnxRuntime.Gpu.Linux -p:InvariantGlobalization=true \
            -o "$app" --nologo -v quiet || return 1
    done
    # TensorRT is not used; everything else stays (libonnxruntime.so, the CUDA provider, the shared provider bridge).
    rm -f "$app/libonnxruntime_providers_tensorrt.so"
    # Two archives: the application (about 50 MiB packed) and ONNX Runtime's CUDA provider (about 180 MiB packed),
    # so that a GPU machine whose Python already has onnxruntime-gpu 1.31 needs only the first.
    mkdir -p "$out/provider"
    mv "$app/libonnxruntime_providers_cuda.so" "$out/provider/"
    echo "# packing the application and the CUDA provider (zstd -$level)"
    tar -C "$out" -cf - app | zstd -T0 "-$level" --long=27 -q -c | split -b "$part" -d -a 2 - "$out/parts/app.tar.zst.part"
    zstd -T0 "-$level" --long=27 -q -c "$out/provider/libonnxruntime_providers_cuda.so" | split -b "$part" -d -a 2 - "$out/parts/cuda-provider.zst.part"
    local mib=$((1024 * 1024))
    local app_bytes provider_bytes app_packed provider_packed
    app_bytes=$(du -sb "$app" | cut -f1)
    provider_bytes=$(stat -c %s "$out/provider/libonnxruntime_providers_cuda.so")
    app_packed=$(cat "$out"/parts/app.tar.zst.part* | wc -c)
    provider_packed=$(cat "$out"/parts/cuda-provider.zst.part* | wc -c)
    (cd "$out/parts" && sha256sum ./*.part* > ../parts.sha256)
    echo "RESULT pack app_mib=$((app_bytes / mib)) app_packed_mib=$((app_packed / mib)) app_parts=$(ls "$out"/parts/app.* | wc -l)" \
        "cuda_provider_mib=$((provider_bytes / mib)) cuda_provider_packed_mib=$((provider_packed / mib)) cuda_provider_parts=$(ls "$out"/parts/cuda-provider.* | wc -l) part_size=$part"
    ls -l "$out/parts"
}

find_cuda_libs() {
    # Every site-packages/nvidia/*/lib of the machine's Pythons (pip's nvidia-* wheels: cudart, cublas, curand, cudnn, ...).
    local dirs=() sp
    for py in python3 python /usr/bin/python3 /usr/local/bin/python3 /opt/conda/bin/python; do
        command -v "$py" > /dev/null 2>&1 || continue
        while IFS= read -r sp; do
            [ -d "$sp/nvidia" ] && for d in "$sp"/nvidia/*/lib; do [ -d "$d" ] && dirs+=("$d"); done
        done < <("$py" -c 'import site, sys; print("\n".join(site.getsitepackages() + [site.getusersitepackages()] + sys.path))' 2> /dev/null)
    done
    if [ ${#dirs[@]} -eq 0 ]; then
        while IFS= read -r d; do dirs+=("$d"); done < <(find / -maxdepth 8 -type d -path '*site-packages/nvidia/*/lib' 2> /dev/null)
    fi
    printf '%s\n' "${dirs[@]}" | awk '!seen[$0]++' | paste -sd: -
}

check() {
    # check NAME SECONDS COMMAND...: runs COMMAND under a time limit, keeps its output, prints its rc.
    local name="$1" limit="$2"
    shift 2
    echo "# ---- $name (limit ${limit}s): $*"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$logs/$name.log" | grep -E '^(RESULT|device:|  step|largest|  first call|unknown|ONNX|CUDA|Unhandled|System\.)'
    local rc=${PIPESTATUS[0]}
    echo "RESULT check=$name rc=$rc seconds=$((SECONDS - start))"
    [ "$rc" -eq 0 ] || tail -20 "$logs/$name.log"
}

run() {
    local dir="$root/out/gpu-check" device=cuda
    while [ $# -gt 0 ]; do
        case "$1" in
            --dir) dir="$2"; shift 2 ;;
            --device) device="$2"; shift 2 ;;
            *) echo "run: unknown option $1" >&2; return 2 ;;
        esac
    done
    if [ ! -x "$dir/app/Benchmarks" ]; then
        (cd "$dir/parts" && sha256sum -c --quiet --ignore-missing ../parts.sha256) || { echo "RESULT unpack ok=0 (damaged parts)"; return 1; }
        cat "$dir"/parts/app.tar.zst.part* | zstd -d --long=27 -q -c | tar -C "$dir" -xf - || { echo "RESULT unpack ok=0 (app)"; return 1; }
    fi
    if [ ! -f "$dir/app/libonnxruntime_providers_cuda.so" ]; then
        if ls "$dir"/parts/cuda-provider.zst.part* > /dev/null 2>&1; then
            cat "$dir"/parts/cuda-provider.zst.part* | zstd -d --long=27 -q -c > "$dir/app/libonnxruntime_providers_cuda.so" \
                || { echo "RESULT unpack ok=0 (cuda provider)"; rm -f "$dir/app/libonnxruntime_providers_cuda.so"; return 1; }
        else
            # No provider parts: Python's onnxruntime-gpu of the same version has the same library.
            local found
            found=$(python3 -c 'import onnxruntime, os, sys; v = onnxruntime.__version__; d = os.path.join(os.path.dirname(onnxruntime.__file__), "capi"); p = os.path.join(d, "libonnxruntime_providers_cuda.so"); print(p if v.startswith("1.31.") and os.path.exists(p) else "", v, file=sys.stdout)' 2> /dev/null)
            echo "RESULT python_onnxruntime ${found:-none}"
            [ -n "${found%% *}" ] && ln -sf "${found%% *}" "$dir/app/libonnxruntime_providers_cuda.so"
        fi
    fi
    echo "RESULT unpack ok=1 app=$dir/app cuda_provider=$([ -e "$dir/app/libonnxruntime_providers_cuda.so" ] && echo 1 || echo 0)"
    local libs
    libs="$(find_cuda_libs)"
    export LD_LIBRARY_PATH="$dir/app${libs:+:$libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "RESULT cuda_libs dirs=$(echo "$libs" | tr ':' '\n' | grep -c . ) cudnn=$(echo "$libs" | grep -c cudnn) cublas=$(echo "$libs" | grep -c cublas)"
    command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/RESULT gpu /'
    logs="$dir/logs"
    mkdir -p "$logs"
    export DOTNET_gcServer=0 DOTNET_TieredPGO=1
    local app="$dir/app"
    # Time limits add up to 8 minutes: the device budget also pays for the machine's start and the transfers.
    # The checks issue 15 asks for come first; the parity of the CUDA-graph step (same losses with graphs) last.
    local tag="${device%%:*}"
    check seed 60 "$app/SimpleTraining" --device "$device" --steps 300
    check parity 120 "$app/Benchmarks" parity --device "$device" --steps 50
    check "sweep_$tag" 80 "$app/Benchmarks" simple --mode auto --device "$device" --sweep --steps 2000 --out "$logs/sweep"
    if [ "$device" != cpu ]; then
        check "sweep_${tag}_graphs" 80 "$app/Benchmarks" simple --mode auto --device "$device" --cuda-graphs --sweep --steps 2000 --out "$logs/sweep"
        check sweep_cpu 80 "$app/Benchmarks" simple --mode auto --device cpu --sweep --steps 1000 --out "$logs/sweep"
        check parity_graphs 60 "$app/Benchmarks" parity --device "$device" --steps 50 --cuda-graphs
    fi
    # The logs travel back when $OUT is set (the device tool's output folder).
    [ -n "${OUT:-}" ] && cp -r "$logs" "$OUT/" 2> /dev/null
    return 0
}

case "$cmd" in
    pack) pack "$@" ;;
    run) run "$@" ;;
    *) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 2 ;;
esac
