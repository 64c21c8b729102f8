DROP TABLE token_cutoffs;
