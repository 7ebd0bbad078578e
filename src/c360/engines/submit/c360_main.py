"""The ``c360`` command for ``spark-submit`` (a script, alone in its folder, so that the folder
Python adds to its path shadows no other module):

    spark-submit --master spark://host:7077 "$(c360 spark-entry)" run --engine spark ...
"""

from c360.shells.cli import main

if __name__ == "__main__":
    main()
