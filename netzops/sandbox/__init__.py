"""The sandbox: a real replica of the Netzwächter stack on this machine (sandbox/)."""
