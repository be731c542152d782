"""Where objects come from: the simulation, synthetic galaxies, Galaxy Zoo, image folders, downloads."""
