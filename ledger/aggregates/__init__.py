"""Event-sourced aggregates: fund books, and the state the policy engine keeps beside them."""

from ledger.aggregates.book import Book, BookKey, book_id

__all__ = ["Book", "BookKey", "book_id"]
