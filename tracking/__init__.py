"""Public citizen pages: the tracking link printed on the receipt and sent by SMS."""
