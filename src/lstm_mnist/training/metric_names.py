"""The names of the scalars a run logs, defined once.

The module logs them, the best checkpoint watches one, the HPARAMS tab and the end-of-fit summary
read others: each imports the name from here, so a rename cannot leave one of them behind.
"""

TRAIN_LOSS = "train/loss"
TRAIN_ACC = "train/acc"
VAL_LOSS = "val/loss"
VAL_ACC = "val/acc"
VAL_ACC_BEST = "val/acc_best"  # the highest val/acc so far: the HPARAMS tab's measure of a run
TEST_LOSS = "test/loss"
TEST_ACC = "test/acc"  # after fit: of the best checkpoint
TEST_ACC_LAST = "test/acc_last"  # after fit, last.ckpt's test/acc beside the best checkpoint's
# A number reader's (training/number_reader.py): val/acc and test/acc are whole numbers read right;
# the character error rate is the edits (digits left out, added or misread) per digit of the truth.
VAL_CER = "val/cer"
TEST_CER = "test/cer"
