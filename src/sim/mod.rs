//! The simulated Electron Cash daemon.
