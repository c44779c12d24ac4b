"""The training loop's bookkeeping shared by training/separation/train.py and
training/vocoder/train.py: a run on a wall-clock budget with the learning rate on a cosine over
it, that resumes from its checkpoint, logs the training curve and saves every two minutes.

    run = TimedRun(out, model, opt, minutes=60, peak_lr=1e-3, smoke=False)
    rng = random.Random(1000 + run.step)
    while run.going():                    # sets the learning rate for this step
        loss = ...; opt.zero_grad(); loss.backward(); opt.step()
        run.stepped(f"loss {loss.item():.2f}")
    run.save()

out/checkpoint.pt holds the model, the optimiser, the step and the seconds used; a rerun continues
the same cosine (new_schedule: keep the weights and moments, start a new cosine of `minutes`).
out/curve.txt gets a line every 50 steps, across resumes."""

import math
import time

import torch

SAVE_EVERY_S = 120
LOG_EVERY = 50


class TimedRun:
    def __init__(self, out, model, opt, minutes, peak_lr, smoke=False, new_schedule=None):
        """new_schedule: None, or the text of the curve line that marks a new cosine."""
        self.model, self.opt, self.peak_lr, self.smoke = model, opt, peak_lr, smoke
        self.ckpt, self.curve = out / "checkpoint.pt", out / "curve.txt"
        self.step, used = 0, 0.0
        if self.ckpt.exists() and not smoke:
            state = torch.load(self.ckpt)
            model.load_state_dict(state["model"], strict=True)
            opt.load_state_dict(state["opt"])
            self.step, used = state["step"], state["seconds"]
            if new_schedule is not None:
                used = 0.0
                self._log(f"new schedule at step {self.step}: {new_schedule}")
        self.budget = 5.0 if smoke else minutes * 60
        self.start, self.last_save = time.time() - used, time.time()

    def going(self):
        """False once the budget is spent; else sets this step's learning rate."""
        elapsed = time.time() - self.start
        if elapsed >= self.budget:
            return False
        for g in self.opt.param_groups:
            g["lr"] = self.peak_lr * 0.5 * (1 + math.cos(math.pi * elapsed / self.budget))
        return True

    def stepped(self, text):
        """Counts a finished step; logs `text` every LOG_EVERY steps; saves when due."""
        self.step += 1
        if self.step % LOG_EVERY == 0 or self.smoke:
            line = f"step {self.step} {text} lr {self.opt.param_groups[0]['lr']:.2e}"
            print(line, flush=True)
            self._log(f"{line} minutes {(time.time() - self.start) / 60:.1f}")
        if not self.smoke and time.time() - self.last_save > SAVE_EVERY_S:
            self.save()

    def save(self):
        if self.smoke:
            return
        torch.save({"model": self.model.state_dict(), "opt": self.opt.state_dict(),
                    "step": self.step, "seconds": time.time() - self.start}, self.ckpt)
        self.last_save = time.time()

    def _log(self, line):
        with open(self.curve, "a") as curve:
            curve.write(line + "\n")
