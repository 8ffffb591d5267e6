"""HTTP clients of the social platforms, one module per vendor behind `base.PlatformClient`."""
