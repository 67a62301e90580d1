"""Making the small model with TRL: the S-SFT and C-DPO sets, and SFT and (weighted) DPO training."""
