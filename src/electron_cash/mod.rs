//! The ElectronCash actor.
