"""Bulletins: news the council writes itself. ``body`` makes what officers type safe,
``audience`` says who a bulletin is for, ``workflow`` is write / approve / withdraw,
``editions`` is the one hook the edition builder calls, ``urgent`` sends one at once,
``posts`` turns one into social drafts."""
