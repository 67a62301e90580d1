"""Making the small model: the S-SFT and C-DPO sets, TRL training, and sampling the trained model."""
