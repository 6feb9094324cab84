#!/usr/bin/env python3
"""The GPU check's steps (run by `scripts/gpu_check.sh run`, from the repository root, with the
Python whose torch is the LibTorch the bundle was built against).

  gpu_check.py --bundle DIR [--out OUT] [--budget 480] [--cpu]

Steps, each bounded in time so that the whole stays within --budget seconds:
  env        rfx env --json: the card, the CUDA and cuDNN rfx's LibTorch was built with
  cuda_tests the cuda suite (tests/cuda), every test run or skipped with its reason
  bench      rfx bench train --device cuda at the paper scale (128², batch 8) for depths 8, 16
             and 48, each beside the same step in Python torch (bench/pyref.py) on the same GPU
  sweep      a short paper-scale grid sweep (8 trainings of 300 steps) with 1, 2, 4 and 8
             trainings at once on the one GPU: trainings per hour, mean GPU utilisation
  training   one paper-scale training: depth 8, distance 9, 3,000 steps, early stopping on
Writes OUT/gpu_check.json (and each step's raw output beside it); exit 0 when every step ran
and passed. --cpu: the same steps on the CPU at toy sizes (the proof where no GPU is lent).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time


class Check:
    def __init__(self, args):
        self.args = args
        self.bundle = os.path.abspath(args.bundle)
        self.out = os.path.abspath(args.out)
        self.rfx = os.path.join(self.bundle, "bin", "rfx")
        self.deadline = time.monotonic() + args.budget
        self.device = "cpu" if args.cpu else "cuda"
        self.summary = {"mode": "cpu" if args.cpu else "gpu", "steps": {}}
        import torch

        self.torch = torch
        torch_lib = os.path.join(os.path.dirname(torch.__file__), "lib")
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = ":".join(
            p for p in [os.path.join(self.bundle, "lib"), torch_lib, env.get("LD_LIBRARY_PATH")] if p
        )
        env["RFX_TEST_EXE"] = self.rfx
        self.env = env

    def left(self):
        return self.deadline - time.monotonic()

    def run(self, cmd, limit, name):
        """Runs cmd (a list) with at most `limit` s (and what is left of the budget)."""
        limit = max(1.0, min(limit, self.left()))
        t = time.monotonic()
        try:
            p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=limit)
            code, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            code = "timeout"
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        wall = time.monotonic() - t
        with open(os.path.join(self.out, name + ".log"), "w") as f:
            f.write("$ " + " ".join(cmd) + "\n" + out + "\n--- stderr\n" + err)
        return code, out, err, wall

    def step(self, name, fn):
        t = time.monotonic()
        try:
            result = fn()
            result.setdefault("ok", True)
        except Exception as e:  # a step's failure is recorded and the check goes on
            result = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        result["wall_s"] = round(time.monotonic() - t, 1)
        self.summary["steps"][name] = result
        print("gpu_check: %-10s %s (%.0f s)" % (name, "ok" if result["ok"] else "FAILED: " +
              result.get("error", ""), result["wall_s"]), flush=True)

    def libraries(self):
        """Where each shared library of the bundle's programs resolves: none may be missing, and
        each must come from the bundle, from this Python's torch (LibTorch, CUDA), or be one the
        machine itself provides (glibc, the C++ runtime, the driver)."""
        system = ("linux-vdso", "ld-linux", "libc.so", "libm.so", "libpthread", "libdl.so",
                  "librt.so", "libresolv", "libutil.so", "libstdc++", "libgcc_s", "libcuda.so")
        site = os.path.dirname(os.path.dirname(self.torch.__file__))
        bad = []
        for exe in ("rfx", "rfx_cuda_tests"):
            out = subprocess.run(["ldd", os.path.join(self.bundle, "bin", exe)], env=self.env,
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if not parts or parts[0].startswith(system):
                    continue
                if "not found" in line:
                    bad.append("%s: %s not found" % (exe, parts[0]))
                elif "=>" in parts:
                    path = os.path.realpath(parts[parts.index("=>") + 1])
                    if not (path.startswith(os.path.realpath(self.bundle) + os.sep) or
                            path.startswith(os.path.realpath(site) + os.sep)):
                        bad.append("%s: %s from %s" % (exe, parts[0], path))
        return bad

    def env_step(self):
        bad = self.libraries()
        if bad:
            raise RuntimeError("libraries outside the bundle and torch: " + "; ".join(bad[:8]))
        code, out, err, _ = self.run([self.rfx, "env", "--json"], 60, "env")
        if code != 0:
            raise RuntimeError("rfx env exited %s: %s" % (code, err.strip()[-500:]))
        env = json.loads(out)
        self.summary["env"] = env
        devices = env["cuda"]["devices"]
        self.summary["card"] = devices[0]["name"] if devices else None
        ok = env["cuda"]["built_with"] is not None and (self.args.cpu or env["cuda"]["available"])
        return {"ok": ok, "torch_version": env["torch_version"],
                "cuda_built_with": env["cuda"]["built_with"],
                "cudnn_built_with": env["cuda"]["cudnn_built_with"],
                "cuda_available": env["cuda"]["available"]}

    def cuda_tests_step(self):
        report = os.path.join(self.out, "cuda_tests.json")
        exe = os.path.join(self.bundle, "bin", "rfx_cuda_tests")
        code, out, err, _ = self.run([exe, "--gtest_output=json:" + report], 180, "cuda_tests")
        if not os.path.exists(report):
            raise RuntimeError("the cuda suite wrote no report (exit %s): %s" % (code, err[-500:]))
        with open(report) as f:
            suites = json.load(f)["testsuites"]
        passed, failed, skipped, reasons = 0, [], 0, set()
        for suite in suites:
            for t in suite["testsuite"]:
                name = suite["name"] + "." + t["name"]
                if t.get("failures"):
                    failed.append(name)
                elif t.get("result") == "SKIPPED":
                    skipped += 1
                else:
                    passed += 1
        # gtest prints each skip's reason on the line after "...: Skipped".
        lines = out.splitlines()
        for i, line in enumerate(lines[:-1]):
            if line.rstrip().endswith("Skipped") and lines[i + 1].strip():
                reasons.add(lines[i + 1].strip()[:200])
        # On a GPU nothing may skip; on the CPU the GPU tests skip, saying why.
        if self.args.cpu:
            ok = code == 0 and not failed and skipped > 0 and bool(reasons)
        else:
            ok = code == 0 and not failed and skipped == 0
        return {"ok": ok, "exit": code, "passed": passed, "failed": failed, "skipped": skipped,
                "skip_reasons": sorted(reasons)}

    def bench_step(self):
        small = self.args.cpu
        size, reps = (32, 3) if small else (128, 30)
        depths = [2, 4] if small else [8, 16, 48]
        rows = []
        for depth in depths:
            common = ["--depth", str(depth), "--batch", "8", "--size", str(size),
                      "--reps", str(reps), "--threads", "2" if small else "4"]
            code, out, err, _ = self.run(
                [self.rfx, "bench", "train", "--device", self.device, "--json"] + common, 120,
                "bench_rfx_d%d" % depth)
            if code != 0:
                raise RuntimeError("rfx bench train (depth %d) exited %s: %s" %
                                   (depth, code, err.strip()[-300:]))
            rfx = json.loads(out.strip().splitlines()[-1])
            code, out, err, _ = self.run(
                [sys.executable, "bench/pyref.py", "step", "--device", self.device] + common, 120,
                "bench_py_d%d" % depth)
            if code != 0:
                raise RuntimeError("bench/pyref.py step (depth %d) exited %s: %s" %
                                   (depth, code, err.strip()[-300:]))
            py = json.loads(out.strip().splitlines()[-1])
            rows.append({"depth": depth, "batch": 8, "size": size, "device": rfx["device"],
                         "rfx_step_ms": rfx["step_ms"], "rfx_gflops": rfx["gflops"],
                         "python_step_ms": py["step_ms"], "python_device": py["device_name"],
                         "speedup": py["step_ms"] / rfx["step_ms"]})
        return {"rows": rows}

    def sample_utilisation(self, stop, samples):
        smi = shutil.which("nvidia-smi")
        if smi is None or self.args.cpu:
            return
        while not stop.is_set():
            try:
                out = subprocess.run([smi, "--query-gpu=utilization.gpu", "--format=csv,noheader,"
                                      "nounits", "-i", "0"], capture_output=True, text=True,
                                     timeout=5).stdout
                samples.append(float(out.strip().splitlines()[0]))
            except Exception:
                pass
            stop.wait(0.5)

    def sweep_step(self):
        small = self.args.cpu
        cells = 4 if small else 8
        steps = 20 if small else 300
        size = 32 if small else 128
        workers = [1, 2] if small else [1, 2, 4, 8]
        distances = list(range(5, 5 + cells))
        sets = ["--set", "sweep.mode=grid", "--set",
                "sweep.axes={dataset.distance: %s}" % json.dumps(distances),
                "--set", "dataset.image_size=%d" % size, "--set", "net.depth=16",
                "--set", "train.steps=%d" % steps, "--set", "train.eval_samples=64",
                "--set", "train.checkpoint_every=0", "--set", "train.device=" + self.device]
        if small:
            sets += ["--set", "dataset.glyph_scale=0.5", "--set", "net.depth=4"]
        rows = []
        for k in workers:
            if self.left() < 30:
                rows.append({"workers": k, "skipped": "out of time"})
                continue
            out = os.path.join(self.out, "sweep-%d" % k)
            shutil.rmtree(out, ignore_errors=True)
            threads = max(1, (os.cpu_count() or 2) // k)
            cmd = [self.rfx, "sweep", "--out", out, "--workers", str(k), "--set",
                   "train.threads=%d" % threads, "--set", "dataset.threads=%d" % threads] + sets
            if not small:
                cmd += ["--devices", "0"]
            stop, samples = threading.Event(), []
            sampler = threading.Thread(target=self.sample_utilisation, args=(stop, samples))
            sampler.start()
            code, _, err, wall = self.run(cmd, 150, "sweep_%d" % k)
            stop.set()
            sampler.join()
            done = 0
            path = os.path.join(out, "results.jsonl")
            if os.path.exists(path):
                with open(path) as f:
                    done = sum(1 for line in f if '"status":"ok"' in line.replace(" ", ""))
            rows.append({"workers": k, "exit": code, "trainings": done, "wall_s": round(wall, 1),
                         "trainings_per_hour": round(done / wall * 3600, 1) if wall > 0 else None,
                         "gpu_util_mean": round(sum(samples) / len(samples), 1) if samples else None,
                         "error": err.strip()[-300:] if code != 0 else None})
        ok = all(r.get("exit") == 0 and r.get("trainings") == cells for r in rows)
        return {"ok": ok, "cells": cells, "steps": steps, "size": size, "rows": rows}

    def training_step(self):
        small = self.args.cpu
        out = os.path.join(self.out, "training")
        shutil.rmtree(out, ignore_errors=True)
        sets = ["--set", "net.depth=8", "--set", "dataset.distance=9",
                "--set", "train.steps=%d" % (40 if small else 3000),
                "--set", "train.early_stop.every=100", "--set", "train.device=" + self.device,
                "--set", "train.threads=4", "--set", "dataset.threads=4"]
        if small:
            sets += ["--set", "dataset.image_size=32", "--set", "dataset.glyph_scale=0.5",
                     "--set", "dataset.distance=5", "--set", "train.eval_samples=32",
                     "--set", "train.early_stop.every=0"]
        code, _, err, wall = self.run([self.rfx, "train", "--out", out] + sets, 240, "training")
        result_path = os.path.join(out, "result.json")
        if code != 0 or not os.path.exists(result_path):
            raise RuntimeError("rfx train exited %s: %s" % (code, err.strip()[-300:]))
        with open(result_path) as f:
            r = json.load(f)
        return {"accuracy": r["accuracy"], "steps": r["steps"], "learned_at": r.get("learned_at"),
                "status": r["status"], "device": r["device"], "train_wall_s": r["wall_s"],
                "process_wall_s": round(wall, 1)}

    def main(self):
        os.makedirs(self.out, exist_ok=True)
        with open(os.path.join(self.bundle, "manifest.json")) as f:
            manifest = json.load(f)
        self.summary["bundle"] = manifest
        self.summary["python_torch"] = self.torch.__version__
        if manifest["torch_version"].split("+")[0] != self.torch.__version__.split("+")[0]:
            print("gpu_check: the bundle was built against torch %s, this Python has %s" %
                  (manifest["torch_version"], self.torch.__version__), file=sys.stderr)
            return 1
        t = time.monotonic()
        self.step("env", self.env_step)
        self.step("cuda_tests", self.cuda_tests_step)
        self.step("bench", self.bench_step)
        self.step("sweep", self.sweep_step)
        self.step("training", self.training_step)
        self.summary["wall_s"] = round(time.monotonic() - t, 1)
        self.summary["ok"] = all(s["ok"] for s in self.summary["steps"].values())
        path = os.path.join(self.out, "gpu_check.json")
        with open(path + ".tmp", "w") as f:
            json.dump(self.summary, f, indent=2)
        os.replace(path + ".tmp", path)
        print("gpu_check: %s in %.0f s: %s" % ("passed" if self.summary["ok"] else "FAILED",
                                               self.summary["wall_s"], path))
        return 0 if self.summary["ok"] else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--out", default=os.environ.get("OUT") or "out/gpu_check")
    ap.add_argument("--budget", type=float, default=480)
    ap.add_argument("--cpu", action="store_true")
    sys.exit(Check(ap.parse_args()).main())


if __name__ == "__main__":
    main()
