// A virtual X display for the browsers that need one (WebKitGTK's MiniBrowser has no
// headless mode). One Xvfb per test process, started on first use and stopped when the
// process exits; it picks a free display number itself (-displayfd), so parallel runs and
// a developer's own desktop are never touched.
import { spawn } from "node:child_process";

export const XVFB = process.env.XVFB_PATH || "/usr/bin/Xvfb";

let started = null;

export function virtualDisplay() {
  started ??= new Promise((resolve, reject) => {
    // -noreset: an X server resets when its last client leaves, and a browser connecting
    // during that reset fails ("cannot open display"): between two WebKit sessions it did.
    const xvfb = spawn(XVFB, ["-displayfd", "3", "-noreset", "-screen", "0", "1400x1000x24", "-nolisten", "tcp"], {
      stdio: ["ignore", "ignore", "pipe", "pipe"],
    });
    let stderr = "";
    xvfb.stderr.on("data", (chunk) => (stderr += chunk));
    xvfb.on("error", reject);
    xvfb.on("exit", (code) => reject(new Error(`Xvfb stopped (exit ${code}): ${stderr.trim().slice(-300)}`)));
    xvfb.stdio[3].once("data", (number) => {
      // From now on Xvfb must not keep the test process alive: it goes when the process does.
      xvfb.unref();
      xvfb.stderr.unref();
      xvfb.stdio[3].unref();
      resolve(`:${String(number).trim()}`);
    });
    process.once("exit", () => xvfb.kill());
  });
  return started;
}
